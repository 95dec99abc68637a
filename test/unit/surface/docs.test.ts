import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const folders = (dir: string) =>
  readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

/** The `lib/` tree of DESIGN.md's "The shape": each folder by its indentation under its parent. */
function designTree(): Map<string, string[]> {
  const design = read('DESIGN.md');
  const start = design.indexOf('```\nlib/\n');
  const block = design.slice(start + 4, design.indexOf('```', start + 4));
  const tree = new Map<string, string[]>();
  const parents: string[] = [];
  for (const line of block.split('\n')) {
    const match = /^( *)([a-z][\w-]*)\/ /.exec(line) ?? /^( *)([a-z][\w-]*)\/$/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 2;
    parents.length = depth;
    const parent = parents.join('/');
    if (!tree.has(parent)) tree.set(parent, []);
    tree.get(parent)!.push(match[2]);
    parents.push(match[2]);
  }
  return tree;
}

describe('DESIGN.md and README follow the code', () => {
  it("DESIGN.md's folder list is lib/'s folders, and resources/'s", () => {
    const tree = designTree();
    expect([...tree.get('lib')!].sort()).toEqual(folders('lib'));
    expect([...tree.get('lib/resources')!].sort()).toEqual(folders('lib/resources'));
  });

  it('every README code block is closed before the next opens', () => {
    const unclosed: number[] = [];
    let openedAt: number | undefined;
    read('README.md')
      .split('\n')
      .forEach((line, index) => {
        const fence = /^\s*```(\S*)/.exec(line);
        if (!fence) return;
        if (openedAt === undefined) openedAt = index + 1;
        else {
          // A fence naming a language while a block is open opens another: the first was never closed.
          if (fence[1] !== '') unclosed.push(openedAt);
          openedAt = undefined;
        }
      });
    if (openedAt !== undefined) unclosed.push(openedAt);
    expect(unclosed).toEqual([]);
  });

  it("the README's `keel help` listing is what `keel help` prints", () => {
    const readme = read('README.md');
    const marker = '$ npx keel help\n';
    const from = readme.indexOf(marker) + marker.length;
    const listed = readme.slice(from, readme.indexOf('$ npx keel --version', from));
    const cli = spawnSync(process.execPath, ['-r', '@swc-node/register', 'lib/cli/main.ts', 'help'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(cli.status).toBe(0);
    expect(listed).toBe(cli.stdout);
  });
});

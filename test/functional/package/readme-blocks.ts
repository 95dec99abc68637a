import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../support/process';

export interface ReadmeBlock {
  /** `README.md:21`: where the block starts. */
  title: string;
  /** Relative to the consumer project's `readme/` folder. */
  file: string;
  code: string;
  /** Calls `run(...)`: a whole service to start and stop. */
  runnable: boolean;
}

/** A block is a module of its own; `<!-- file: tasks.ts -->` on the line before names it, for another block to import. */
const FILE_COMMENT = /^<!--\s*file:\s*([\w.-]+\.ts)\s*-->$/;

/** Every ```ts block of README.md and of each sample's README.md. */
export function readmeBlocks(): ReadmeBlock[] {
  const samples = path.join(PROJECT_ROOT, 'samples');
  const readmes = [
    'README.md',
    ...readdirSync(samples)
      .map((sample) => path.join('samples', sample, 'README.md'))
      .filter((readme) => existsSync(path.join(PROJECT_ROOT, readme))),
  ];
  return readmes.flatMap((readme) => blocksOf(readme));
}

function blocksOf(readme: string): ReadmeBlock[] {
  const lines = readFileSync(path.join(PROJECT_ROOT, readme), 'utf8').split('\n');
  const folder = readme === 'README.md' ? 'root' : path.basename(path.dirname(readme));
  const blocks: ReadmeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[index])) continue;
    const start = index;
    const body: string[] = [];
    while (++index < lines.length && !lines[index].startsWith('```')) body.push(lines[index]);
    const named = FILE_COMMENT.exec(lines[start - 1]?.trim() ?? '');
    const code = `${body.join('\n')}\n`;
    blocks.push({
      title: `${readme}:${start + 1}`,
      file: path.join(folder, named ? named[1] : `line-${start + 1}.ts`),
      code,
      runnable: /^\s*(void |await )?run\(/m.test(code),
    });
  }
  return blocks;
}

export function writeReadmeBlocks(project: string, blocks: ReadmeBlock[]): void {
  for (const block of blocks) {
    const file = path.join(project, 'readme', block.file);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, block.code);
  }
}

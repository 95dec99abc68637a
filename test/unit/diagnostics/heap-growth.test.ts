import type { HeapProfiler } from 'node:inspector';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bytesBySite } from '../../../lib/resources/diagnostics/heap-growth';

const DIAGNOSTICS = path.resolve(__dirname, '../../../lib/resources/diagnostics');

function node(
  functionName: string,
  url: string,
  selfSize: number,
  children: HeapProfiler.SamplingHeapProfileNode[] = [],
): HeapProfiler.SamplingHeapProfileNode {
  return {
    callFrame: { functionName, url, lineNumber: 3, columnNumber: 0, scriptId: '1' },
    selfSize,
    children,
  };
}

describe('the memory analyzer’s allocation sites', () => {
  it('leave out the analyzer’s own allocations, but not Keel code sharing its script (the published bundle)', () => {
    // In dist, every Keel module is one file beside heap-growth's compiled code.
    const bundle = pathToFileURL(path.join(DIAGNOSTICS, 'keel.js')).href;
    const user = pathToFileURL('/srv/app/cache.js').href;
    const profile: HeapProfiler.SamplingHeapProfile = {
      head: node('(root)', '', 0, [
        node('bytesBySite', bundle, 4096),
        node('shortLocation', bundle, 1024),
        node('dispatch', 'node:inspector', 2048),
        node('writeLine', bundle, 512),
        node('remember', user, 8192),
      ]),
    };
    const sites = [...bytesBySite(profile).values()].map((site) => [site.function, site.bytes]);
    expect(sites.sort()).toEqual([
      ['remember', 8192],
      ['writeLine', 512],
    ]);
  });
});

import { BUILT_IN_ROOTS, entrySources, findViolations, unitOf } from '../../support/public-imports';
import * as path from 'node:path';

const lib = path.resolve(__dirname, '../../../lib');

describe('built-ins import only what a user can import from Keel', () => {
  it('reads the entries from package.json: keel and every keel/<sub>', () => {
    expect(entrySources().map((file) => path.relative(lib, file))).toEqual(['index.ts', 'testing/index.ts']);
  });

  it("treats a resource's own folder as one unit and the files directly in resources/ as another", () => {
    expect(unitOf(path.join(lib, 'resources/amqp/handlers/consumer.ts'))).toBe('resources/amqp');
    expect(unitOf(path.join(lib, 'resources/amqp/resource.ts'))).toBe('resources/amqp');
    expect(unitOf(path.join(lib, 'resources/report-server.ts'))).toBe('resources');
    expect(unitOf(path.join(lib, 'tracing/sdk.ts'))).toBe('tracing');
    expect(unitOf(path.join(lib, 'settings/provider.ts'))).toBeUndefined();
    expect(BUILT_IN_ROOTS).toEqual(['resources', 'tracing', 'contracts']);
  });

  it('no file under lib/resources, lib/tracing or lib/contracts imports a name the package does not export', () => {
    const shown = findViolations().map((v) => `${v.file}:${v.line} imports ${v.name} from '${v.module}'`);
    expect(shown).toEqual([]);
  });
});

// The polyfill the decorators write through; Keel's own decorators module imports it the same way.
import 'reflect-metadata';
import path from 'node:path';
import * as common from '@inversifyjs/common';
import * as core from '@inversifyjs/core';
import * as source from '../../../lib/container/inversify';
import { bundleInversify } from '../../../scripts/bundle-inversify';

type Inversify = typeof source;
type Decorators = Pick<Inversify, 'inject' | 'injectable' | 'multiInject' | 'named' | 'optional'>;

const TOKEN = Symbol('token');
class Dependency {}

/** One class carrying every decorator Keel exports, all taken from one copy of inversify. */
function decorated(from: Decorators, lazy: source.LazyServiceIdentifier) {
  @from.injectable('Singleton')
  class Decorated {
    @from.inject(TOKEN) @from.optional() readonly property!: unknown;

    constructor(
      readonly dependency: Dependency,
      @from.multiInject(TOKEN) @from.named('primary') readonly many: unknown[],
      @from.inject(lazy) readonly later: Dependency,
    ) {}
  }
  return Decorated;
}

describe('the CommonJS bundle of inversify that dist loads', () => {
  let bundle: Inversify;

  beforeAll(() => {
    const outfile = path.resolve(__dirname, '../../../.tmp/jest/inversify.js');
    bundleInversify(outfile);
    bundle = jest.requireActual<Inversify>(outfile);
  });

  it('is a copy of its own that exports what lib/container/inversify.ts exports', () => {
    expect(Object.keys(bundle).sort()).toEqual(Object.keys(source).sort());
    expect(bundle.getClassMetadata).not.toBe(core.getClassMetadata);
    expect(bundle.LazyServiceIdentifier).not.toBe(common.LazyServiceIdentifier);
  });

  it("reads the metadata written by the package's decorators", () => {
    const lazy = new common.LazyServiceIdentifier(() => Dependency);
    const metadata = bundle.getClassMetadata(decorated(core, lazy));

    expect(metadata).toEqual(core.getClassMetadata(decorated(core, lazy)));
    expect(metadata.scope).toBe('Singleton');
    const [dependency, many, later] = metadata.constructorArguments;
    expect(dependency).toMatchObject({
      kind: bundle.ClassElementMetadataKind.singleInjection,
      value: Dependency,
    });
    expect(many).toMatchObject({
      kind: bundle.ClassElementMetadataKind.multipleInjection,
      value: TOKEN,
      name: 'primary',
    });
    expect(bundle.LazyServiceIdentifier.is((later as { value: unknown }).value)).toBe(true);
    expect(metadata.properties.get('property')).toMatchObject({ value: TOKEN, optional: true });
  });

  it("writes metadata that the package's getClassMetadata reads", () => {
    const lazy = new bundle.LazyServiceIdentifier(() => Dependency);
    const metadata = core.getClassMetadata(decorated(bundle, lazy));

    expect(metadata).toEqual(bundle.getClassMetadata(decorated(bundle, lazy)));
    expect(metadata.constructorArguments[1]).toMatchObject({
      kind: core.ClassElementMetadataKind.multipleInjection,
      value: TOKEN,
      name: 'primary',
    });
    expect(
      common.LazyServiceIdentifier.is((metadata.constructorArguments[2] as { value: unknown }).value),
    ).toBe(true);
  });
});

// Every runtime import of inversify's packages goes through this module, so that `npm run build` can
// replace its compiled file with one CommonJS bundle (scripts/bundle-inversify.ts): the packages ship
// ESM only, and Node 20 loads ESM file by file, about 80 ms of a cold start for their 281 modules.
export {
  ClassElementMetadataKind,
  getClassMetadata,
  inject,
  injectable,
  multiInject,
  named,
  optional,
  type ClassElementMetadata,
} from '@inversifyjs/core';
export { LazyServiceIdentifier } from '@inversifyjs/common';

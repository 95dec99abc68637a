// An ES module consumer: resolved through the "import" condition of Keel's exports map.
import { createRequire } from 'node:module';
import { Microservice, ResourceStatus, type HttpContext } from 'keel';

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
const paramIsString: Equal<HttpContext['params']['id'], string> = true;

// One copy of Keel whichever way it is loaded: the ESM entry re-exports the CommonJS build.
const required = createRequire(import.meta.url)('keel') as { Microservice: unknown };
console.log(
  JSON.stringify({
    paramIsString,
    sameClass: required.Microservice === Microservice,
    started: ResourceStatus.STARTED,
  }),
);

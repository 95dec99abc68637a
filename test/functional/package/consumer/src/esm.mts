// An ES module consumer: resolved through the "import" condition of Keel's exports map.
import { createRequire } from 'node:module';
import { Microservice, ResourceStatus, Test, type HttpContext } from 'keel';
import { Test as KitTest } from 'keel/testing';

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
const paramIsString: Equal<HttpContext['params']['id'], string> = true;

// One copy of Keel whichever way it is loaded: the ESM entry re-exports the CommonJS build.
const require = createRequire(import.meta.url);
const required = require('keel') as { Microservice: unknown };
const requiredKit = require('keel/testing') as { Test: unknown };
console.log(
  JSON.stringify({
    paramIsString,
    sameClass: required.Microservice === Microservice,
    sameKit: requiredKit.Test === KitTest && KitTest === Test,
    started: ResourceStatus.STARTED,
  }),
);

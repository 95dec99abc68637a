export { HttpServerResource } from './server';
export { HttpClientResource, type HttpRequestOptions } from './client';
export { http, type HttpMethod, type HttpRouteOptions } from './decorators';
export { HttpReply, reply } from './reply';
export type { HttpContext, HttpHandler, HttpState } from './context';
export { parseBody, parseForm, parseJson, CONTENT_CODINGS, type FormFields } from './body';
export {
  HttpBodyError,
  HttpClientError,
  HttpRouteError,
  type HttpBodyErrorCode,
  type HttpClientErrorCode,
  type HttpRouteErrorCode,
} from './errors';
export type { DrainOutcome } from './drain';
export { UNMATCHED_ROUTE } from './middleware';
export {
  httpClientSchema,
  httpServerSchema,
  type CorsSettings,
  type HttpClientSettings,
  type HttpServerSettings,
} from './settings';

export { HttpServerResource } from './server';
export { HttpClientResource, type HttpRequestOptions } from './client';
export { http, defineRoute, type HttpMethod, type RouteDefinition } from './decorators';
export type {
  HttpRouteOptions,
  PathParams,
  RouteContext,
  RouteDocumentation,
  RouteHandler,
  RouteResult,
  RouteSchemas,
  TypedContext,
} from './contracts/types';
export { ResponseContractError } from './contracts/validation';
export { openApi, type OpenApiDocument, type OpenApiInfo } from './contracts/openapi';
export { HttpReply, reply } from './reply';
export type { HttpContext, HttpHandler, HttpState } from './context';
export { parseBody, parseForm, parseJson, CONTENT_CODINGS, type FormFields } from './body';
export {
  HttpBodyError,
  HttpClientError,
  HttpListenError,
  listenFailure,
  HttpRouteError,
  HttpResponseError,
  type HttpResponseErrorCode,
  type HttpBodyErrorCode,
  type HttpClientErrorCode,
  type HttpListenErrorCode,
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
export {
  websocket,
  type UpgradeResult,
  type WebSocketHandler,
  type WebSocketRouteOptions,
  type WebSocketUpgrade,
} from './websocket/decorator';
export { WebSocketConnection, type CloseReason, type SlowClientPolicy } from './websocket/connection';
export { WebSocketError, type WebSocketErrorCode } from './websocket/errors';
export type { WebSocketSettings } from './websocket/sockets';

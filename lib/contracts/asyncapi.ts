import { toJsonSchema, type Schema } from './schema';

export type AsyncApiDocument = Record<string, unknown> & { asyncapi: '3.0.0' };

/** What one transport adds to the document: its channels, operations and messages, by id. */
export interface AsyncApiParts {
  channels: Record<string, unknown>;
  operations: Record<string, unknown>;
  messages: Record<string, unknown>;
}

/** The AsyncAPI 3.0 document of a service from the parts of each transport it has. */
export function asyncApiDocument(
  title: string,
  version: string,
  parts: readonly AsyncApiParts[],
): AsyncApiDocument {
  const merged: AsyncApiParts = { channels: {}, operations: {}, messages: {} };
  for (const part of parts) {
    Object.assign(merged.channels, part.channels);
    Object.assign(merged.operations, part.operations);
    Object.assign(merged.messages, part.messages);
  }
  return {
    asyncapi: '3.0.0',
    info: { title, version },
    defaultContentType: 'application/json',
    channels: merged.channels,
    operations: merged.operations,
    components: { messages: merged.messages },
  };
}

/** A message component: its payload schema (as JSON Schema), if it has one. */
export function asyncApiMessage(
  schema: Schema | undefined,
  summary: string | undefined,
): Record<string, unknown> {
  return {
    contentType: 'application/json',
    ...(schema !== undefined && { payload: toJsonSchema(schema) }),
    ...(summary !== undefined && { summary }),
  };
}

/** AsyncAPI's component and channel keys: letters, digits, `.`, `-`, `_`. */
export function asyncApiIdentifier(text: string): string {
  return text
    .replace(/\*/g, 'star')
    .replace(/#/g, 'hash')
    .replace(/[^\w.-]/g, '_');
}

import type { ResourceGraph } from '../container/graph';
import { asyncApiDocument, type AsyncApiDocument } from '../contracts/asyncapi';
import { instanceIdentity } from '../identity/instance';
import { amqpAsyncApi } from '../resources/amqp/contracts/asyncapi';
import { kafkaAsyncApi } from '../resources/kafka/contracts/asyncapi';

/**
 * The AsyncAPI 3.0 document of the service's message handlers, AMQP and Kafka, read from the
 * classes of the graph: what `keel asyncapi` writes without starting the service.
 */
export function asyncApiOfGraph(graph: ResourceGraph): AsyncApiDocument {
  return asyncApiDocument(graph.serviceName, instanceIdentity().version ?? '0.0.0', [
    amqpAsyncApi(graph),
    kafkaAsyncApi(graph),
  ]);
}

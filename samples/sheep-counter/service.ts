import { setTimeout as sleep } from 'node:timers/promises';
import { http, HttpServerResource, Microservice, microservice } from '../../lib';

/** tomodachi's "sleepy sheep counter": each POST pretends to wait on a slow database first. */
@microservice({ name: 'sheep_counter', resources: { http: HttpServerResource } })
export class SheepCounter extends Microservice {
  private sheep = 0;

  @http('POST', '/sheep')
  async addSheep(): Promise<string> {
    await sleep(Math.random() * 1000);
    this.sheep++;
    return String(this.sheep);
  }

  @http('GET', '/sheep')
  countSheep(): string {
    return String(this.sheep);
  }
}

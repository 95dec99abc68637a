import { run } from '../../lib';
import { HelloService } from './service';

void run(HelloService);

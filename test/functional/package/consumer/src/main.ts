import { run } from 'keel';
import { ConsumerService } from './service';

void run(ConsumerService);

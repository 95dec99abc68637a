import { run } from '../../lib';
import { WorkersService } from './service';

void run(WorkersService);

import { run } from '../../lib';
import { SheepCounter } from './service';

void run(SheepCounter);

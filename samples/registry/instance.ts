import './defaults';
import { run } from '../../lib';
import { Greeter } from './greeter';

void run(Greeter);

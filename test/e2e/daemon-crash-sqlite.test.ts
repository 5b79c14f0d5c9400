// Issue 3, crash drills with real processes on SQLite: see test/support/crash-drills.ts.
import { crashDrills } from '../support/crash-drills.js';

crashDrills('sqlite');

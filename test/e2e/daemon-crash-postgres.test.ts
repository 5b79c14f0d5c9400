// Issue 3, crash drills with real processes on Postgres: see test/support/crash-drills.ts.
import { crashDrills } from '../support/crash-drills.js';

crashDrills('postgres');

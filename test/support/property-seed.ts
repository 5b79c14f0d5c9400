// Loaded before every test file (scripts/test.mjs passes it with --import): fast-check's properties run from one fixed
// seed, so a run on CI draws exactly the cases a run here drew and a red build is never a roll of the dice.
// LEGGUARD_PROPERTY_SEED=<n> replays the seed fast-check printed for a failure, or explores other cases on purpose.
import fc from 'fast-check';

const raw = process.env['LEGGUARD_PROPERTY_SEED'];
const seed = raw === undefined || raw === '' ? 20_261_205 : Number(raw);
if (!Number.isInteger(seed)) throw new Error(`LEGGUARD_PROPERTY_SEED must be an integer, got ${JSON.stringify(raw)}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });

import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { runStoreContract } from '../contract/store.contract.js';

runStoreContract('memory', async () => {
  const store = new MemoryStore();
  await store.init();
  return { store, reopen: null };
});

// Instances sharing a database must seal with the same master key; a mismatch is caught at
// start instead of surfacing later as undecryptable keys.
import { ConflictError, type Store } from '../store/types.js';
import type { Sealer } from '../crypto/masterKey.js';

export async function checkMasterKey(store: Store, sealer: Sealer): Promise<void> {
  const fingerprint = sealer.fingerprint();
  const stored = await store.get<{ fingerprint: string }>('meta', 'masterKey');
  if (stored) {
    if (stored.value.fingerprint !== fingerprint) {
      throw new Error('this store was sealed with a different master key: give every instance sharing the database the same MIMIC_MASTER_KEY');
    }
    return;
  }
  try {
    await store.apply([{ op: 'put', kind: 'meta', key: 'masterKey', value: { fingerprint }, ifAbsent: true }]);
  } catch (err) {
    if (err instanceof ConflictError) return checkMasterKey(store, sealer);
    throw err;
  }
}

// Input checks shared by the vault item resources (secrets, keys) served through the Resource
// Manager: both take an item name and attribute times in the same form, and refuse bad input
// with ARM's 400 BadRequest.
import { ArmError } from '../../arm/errors.js';

/** Key Vault item names: 1 to 127 letters, digits and hyphens. */
export const ITEM_NAME = /^[0-9a-zA-Z-]{1,127}$/;

export const badRequest = (message: string) => new ArmError(400, 'BadRequest', message);

/** An attribute time (`nbf`, `exp`) in seconds since 1970; absent stays absent. */
export function attributeTime(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`The property 'properties.attributes.${field}' must be seconds since 1970.`);
  return Math.floor(v);
}

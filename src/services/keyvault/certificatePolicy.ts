// Certificate policies in Key Vault's wire shape (key_props, secret_props, x509_props,
// lifetime_actions, issuer, attributes): validation, the defaults the service fills in, and
// merging a partial update into the stored policy.
import { badParameter } from './errors.js';
import { RSA_KEY_SIZES } from './keyCrypto.js';
import { KEY_USAGES, type X509Props } from './x509.js';

export const PKCS12 = 'application/x-pkcs12';
export const PEM = 'application/x-pem-file';
const ISSUERS = ['self', 'unknown'];
const CERT_CURVES = ['P-256', 'P-384', 'P-521'];
const DEFAULT_EKUS = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];

export interface CertificatePolicy {
  key_props: { exportable: boolean; kty: string; key_size?: number; crv?: string; reuse_key: boolean };
  secret_props: { contentType: string };
  x509_props: X509Props & { validity_months: number };
  lifetime_actions: Array<{ trigger: Record<string, number>; action: { action_type: string } }>;
  issuer: { name: string; cty?: string; cert_transparency?: boolean };
  attributes: { enabled: boolean; created: number; updated: number };
}

type Obj = Record<string, unknown>;

function object(v: unknown, field: string): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badParameter(`'${field}' must be an object.`);
  return v as Obj;
}

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badParameter(`'${field}' must be an array of strings.`);
  return v as string[];
}

/** A complete policy from a request (over `previous` for updates), with Key Vault's defaults. */
export function normalizePolicy(raw: unknown, now: number, previous?: CertificatePolicy): CertificatePolicy {
  const p = object(raw, 'policy');
  const keyIn = { ...(previous?.key_props ?? {}), ...object(p.key_props, 'policy.key_props') } as Obj;
  const kty = typeof keyIn.kty === 'string' ? keyIn.kty : keyIn.crv ? 'EC' : 'RSA';
  if (!['RSA', 'RSA-HSM', 'EC', 'EC-HSM'].includes(kty)) throw badParameter(`The key type '${kty}' is not supported for certificates; use RSA, RSA-HSM, EC or EC-HSM.`);
  const key_props: CertificatePolicy['key_props'] = { exportable: keyIn.exportable !== false, kty, reuse_key: keyIn.reuse_key === true };
  if (kty.startsWith('RSA')) {
    const size = keyIn.key_size === undefined || keyIn.key_size === null ? 2048 : Number(keyIn.key_size);
    if (!RSA_KEY_SIZES.includes(size)) throw badParameter(`The RSA key size ${String(keyIn.key_size)} is not supported; use ${RSA_KEY_SIZES.join(', ')}.`);
    key_props.key_size = size;
  } else {
    const crv = keyIn.crv === undefined || keyIn.crv === null ? 'P-256' : String(keyIn.crv);
    if (!CERT_CURVES.includes(crv)) throw badParameter(`The curve '${crv}' is not supported for certificates; use ${CERT_CURVES.join(', ')}.`);
    key_props.crv = crv;
  }

  const secretIn = { ...(previous?.secret_props ?? {}), ...object(p.secret_props, 'policy.secret_props') } as Obj;
  const contentType = typeof secretIn.contentType === 'string' ? secretIn.contentType : PKCS12;
  if (contentType !== PKCS12 && contentType !== PEM) throw badParameter(`The content type '${contentType}' is not supported; use ${PKCS12} or ${PEM}.`);

  const x509In = { ...(previous?.x509_props ?? {}), ...object(p.x509_props, 'policy.x509_props') } as Obj;
  const sansIn = object(x509In.sans, 'policy.x509_props.sans');
  const sans: NonNullable<X509Props['sans']> = {};
  for (const k of ['emails', 'dns_names', 'upns', 'uris', 'ipAddresses'] as const) {
    const list = strings(sansIn[k], `policy.x509_props.sans.${k}`);
    if (list && list.length > 0) sans[k] = list;
  }
  const subject = typeof x509In.subject === 'string' ? x509In.subject : undefined;
  if (!subject && Object.keys(sans).length === 0) throw badParameter('A certificate policy needs a subject or subject alternative names.');
  const validity = x509In.validity_months === undefined || x509In.validity_months === null ? 12 : Number(x509In.validity_months);
  if (!Number.isInteger(validity) || validity < 1 || validity > 1200) throw badParameter("'validity_months' must be an integer from 1 to 1200.");
  const keyUsage = strings(x509In.key_usage, 'policy.x509_props.key_usage') ?? (kty.startsWith('RSA') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature', 'keyAgreement']);
  for (const u of keyUsage) if (!KEY_USAGES.includes(u)) throw badParameter(`'${u}' is not a key usage; use ${KEY_USAGES.join(', ')}.`);
  const ekus = strings(x509In.ekus, 'policy.x509_props.ekus') ?? DEFAULT_EKUS;
  for (const e of ekus) if (!/^\d+(\.\d+)+$/.test(e)) throw badParameter(`'${e}' is not an object identifier.`);
  const x509_props: CertificatePolicy['x509_props'] = { ...(subject ? { subject } : {}), ...(Object.keys(sans).length ? { sans } : {}), ekus, key_usage: keyUsage, validity_months: validity };

  const issuerIn = { ...(previous?.issuer ?? {}), ...object(p.issuer, 'policy.issuer') } as Obj;
  if (typeof issuerIn.name !== 'string') throw badParameter("The certificate policy needs an issuer name ('Self' or 'Unknown').");
  if (!ISSUERS.includes(issuerIn.name.toLowerCase())) {
    throw badParameter(`The issuer '${issuerIn.name}' is not known to this vault; Mimic issues certificates with 'Self' or, through a signing request, 'Unknown'.`);
  }
  const issuer: CertificatePolicy['issuer'] = { name: issuerIn.name };
  if (typeof issuerIn.cty === 'string') issuer.cty = issuerIn.cty;
  if (typeof issuerIn.cert_transparency === 'boolean') issuer.cert_transparency = issuerIn.cert_transparency;

  let actions = previous?.lifetime_actions;
  if (p.lifetime_actions !== undefined && p.lifetime_actions !== null) {
    if (!Array.isArray(p.lifetime_actions)) throw badParameter("'lifetime_actions' must be an array.");
    actions = (p.lifetime_actions as Obj[]).map((a) => {
      const type = String(object(a?.action, 'lifetime_actions.action').action_type ?? '');
      if (type !== 'AutoRenew' && type !== 'EmailContacts') throw badParameter("A lifetime action's action_type must be 'AutoRenew' or 'EmailContacts'.");
      const t = object(a.trigger, 'lifetime_actions.trigger');
      const trigger: Record<string, number> = {};
      if (typeof t.lifetime_percentage === 'number') trigger.lifetime_percentage = t.lifetime_percentage;
      if (typeof t.days_before_expiry === 'number') trigger.days_before_expiry = t.days_before_expiry;
      return { trigger, action: { action_type: type } };
    });
  }
  actions ??= [{ trigger: { lifetime_percentage: 80 }, action: { action_type: issuer.name.toLowerCase() === 'self' ? 'AutoRenew' : 'EmailContacts' } }];

  const attrsIn = object(p.attributes, 'policy.attributes');
  const enabled = typeof attrsIn.enabled === 'boolean' ? attrsIn.enabled : (previous?.attributes.enabled ?? true);
  return {
    key_props,
    secret_props: { contentType },
    x509_props,
    lifetime_actions: actions,
    issuer,
    attributes: { enabled, created: previous?.attributes.created ?? now, updated: now },
  };
}

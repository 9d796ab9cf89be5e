// Real FHIR clients from npm (fhir-kit-client, @medplum/core) and a
// third-party JOSE library (jose), used against a FHIR server as an
// integrator would: SMART Backend Services token, then CRUD, history,
// paging, batch, transaction, conditionals, $validate, _type and
// compartment search, CORS. Each step is one assertion, printed as
// "ok - step" or "not ok - step: why"; the last line counts them.
//
//   FHIR_BASE=http://127.0.0.1:8080 CLIENT_ID=id CLIENT_KEY=key.pem \
//     CORS_ORIGIN=https://app.example node clients.mjs

import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8, decodeProtectedHeader } from 'jose';
import { Client } from 'fhir-kit-client';

const base = process.env.FHIR_BASE;
const clientId = process.env.CLIENT_ID;
const keyPem = readFileSync(process.env.CLIENT_KEY, 'utf8');
const corsOrigin = process.env.CORS_ORIGIN;

let passed = 0;
let failed = 0;
async function step(name, f) {
  try {
    await f();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${e?.message ?? e}`);
  }
}
function check(cond, what) {
  if (!cond) throw new Error(what);
}

// SMART Backend Services with jose: discovery, a signed assertion, a token.
let token;
let tokenUrl;
await step('jose: the discovery document names the token endpoint', async () => {
  const conf = await (await fetch(`${base}/.well-known/smart-configuration`)).json();
  tokenUrl = conf.token_endpoint;
  check(tokenUrl, 'no token_endpoint');
  check(conf.token_endpoint_auth_methods_supported.includes('private_key_jwt'), 'private_key_jwt');
});
await step('jose: an ES384 client assertion gets an access token', async () => {
  const alg = process.env.CLIENT_ALG ?? 'ES384';
  const key = await importPKCS8(keyPem, alg);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('4m')
    .sign(key);
  check(decodeProtectedHeader(assertion).alg === alg, 'header');
  const r = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'system/*.cruds',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  const t = await r.json();
  check(r.status === 200 && t.access_token, `token: ${r.status} ${JSON.stringify(t)}`);
  token = t.access_token;
});

// fhir-kit-client.
const fkc = new Client({ baseUrl: base, bearerToken: token });
const nhs = () => `9${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
const patient = (family) => ({
  resourceType: 'Patient',
  identifier: [{ system: 'https://example.org/client-suite', value: randomUUID() }],
  name: [{ family, given: ['Client'] }],
  birthDate: '1970-01-01',
});
let pid;
let flagId;
await step('fhir-kit-client: CapabilityStatement is R4 and names the OAuth endpoints', async () => {
  const cap = await fkc.capabilityStatement();
  check(cap.fhirVersion === '4.0.1', cap.fhirVersion);
  // From the discovery document (a server of system clients only has no
  // authorization_endpoint there) ...
  const auth = await fkc.smartAuthMetadata();
  check(auth.tokenUrl?.toString() === tokenUrl, JSON.stringify(auth));
  // ... and the CapabilityStatement's oauth-uris, which R4 SMART requires
  // to name both.
  const uris = cap.rest[0].security.extension.find((e) => e.url.endsWith('/oauth-uris'));
  check(['token', 'authorize'].every((u) => uris.extension.some((e) => e.url === u)), JSON.stringify(uris));
});
await step('fhir-kit-client: create', async () => {
  const p = await fkc.create({ resourceType: 'Patient', body: patient('Kitson') });
  pid = p.id;
  check(pid && p.meta.versionId === '1', JSON.stringify(p.meta));
});
await step('fhir-kit-client: read', async () => {
  const p = await fkc.read({ resourceType: 'Patient', id: pid });
  check(p.name[0].family === 'Kitson', p.name[0].family);
});
await step('fhir-kit-client: update makes version 2', async () => {
  const p = await fkc.read({ resourceType: 'Patient', id: pid });
  p.gender = 'female';
  const u = await fkc.update({ resourceType: 'Patient', id: pid, body: p });
  check(u.meta.versionId === '2', u.meta.versionId);
});
await step('fhir-kit-client: vread version 1', async () => {
  const v = await fkc.vread({ resourceType: 'Patient', id: pid, version: '1' });
  check(v.meta.versionId === '1' && !v.gender, JSON.stringify(v.meta));
});
await step('fhir-kit-client: JSON Patch', async () => {
  const p = await fkc.patch({
    resourceType: 'Patient',
    id: pid,
    jsonPatch: [{ op: 'replace', path: '/name/0/family', value: 'Kitsune' }],
  });
  check(p.name[0].family === 'Kitsune', p.name[0].family);
});
await step('fhir-kit-client: history of the instance', async () => {
  const h = await fkc.history({ resourceType: 'Patient', id: pid });
  check(h.type === 'history' && h.entry.length === 3, `${h.entry?.length} versions`);
});
await step('fhir-kit-client: search by a parameter', async () => {
  const b = await fkc.search({ resourceType: 'Patient', searchParams: { family: 'Kitsune' } });
  check(b.entry?.some((e) => e.resource.id === pid), 'not found');
});
await step('fhir-kit-client: paging with nextPage', async () => {
  for (let i = 0; i < 3; i += 1) {
    await fkc.create({ resourceType: 'Patient', body: patient('Pager') });
  }
  const first = await fkc.search({ resourceType: 'Patient', searchParams: { family: 'Pager', _count: 2 } });
  const next = await fkc.nextPage({ bundle: first });
  check(first.entry.length === 2 && next?.entry?.length >= 1, 'pages');
  const ids = new Set([...first.entry, ...next.entry].map((e) => e.resource.id));
  check(ids.size === first.entry.length + next.entry.length, 'a resource on two pages');
});
await step('fhir-kit-client: transaction with a urn:uuid reference', async () => {
  const u = `urn:uuid:${randomUUID()}`;
  const r = await fkc.transaction({
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: u, resource: patient('Transact'), request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Flag', status: 'active', code: { text: 'carer' }, subject: { reference: u } },
          request: { method: 'POST', url: 'Flag' },
        },
      ],
    },
  });
  check(r.type === 'transaction-response', r.type);
  check(r.entry.every((e) => e.response.status.startsWith('201')), JSON.stringify(r.entry.map((e) => e.response.status)));
});
await step('fhir-kit-client: batch of reads', async () => {
  const r = await fkc.batch({
    body: {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Patient/${pid}` } },
        { request: { method: 'GET', url: 'Patient/no-such-patient' } },
      ],
    },
  });
  check(r.type === 'batch-response', r.type);
  check(r.entry[0].response.status.startsWith('200') && r.entry[1].response.status.startsWith('404'), 'statuses');
});
await step('fhir-kit-client: conditional create finds the match', async () => {
  const body = patient('Conditional');
  const value = body.identifier[0].value;
  const options = { headers: { 'If-None-Exist': `identifier=https://example.org/client-suite|${value}` } };
  const a = await fkc.create({ resourceType: 'Patient', body, options });
  const b = await fkc.create({ resourceType: 'Patient', body, options });
  check(a.id && (b.id ?? a.id) === a.id, `${a.id} then ${b.id}`);
  const found = await fkc.search({ resourceType: 'Patient', searchParams: { identifier: `https://example.org/client-suite|${value}` } });
  check(found.entry.length === 1, `${found.entry.length} Patients`);
});
await step('fhir-kit-client: $validate', async () => {
  const oo = await fkc.operation({ resourceType: 'Patient', name: '$validate', method: 'POST', input: patient('Valid') });
  check(oo.resourceType === 'OperationOutcome', oo.resourceType);
  check(!oo.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'), JSON.stringify(oo.issue));
});
await step('fhir-kit-client: compartment search', async () => {
  const f = await fkc.create({
    resourceType: 'Flag',
    body: { resourceType: 'Flag', status: 'active', code: { text: 'carer' }, subject: { reference: `Patient/${pid}` } },
  });
  flagId = f.id;
  const b = await fkc.compartmentSearch({ resourceType: 'Flag', compartment: { resourceType: 'Patient', id: pid } });
  check(b.entry?.length === 1 && b.entry[0].resource.id === flagId, JSON.stringify(b.entry?.map((e) => e.resource.id)));
});
await step('fhir-kit-client: system search with _type', async () => {
  const b = await fkc.systemSearch({ searchParams: { _type: 'Flag', _id: flagId } });
  check(b.entry?.length === 1 && b.entry[0].resource.resourceType === 'Flag', 'the Flag only');
});
await step('fhir-kit-client: delete, then read is 410', async () => {
  await fkc.delete({ resourceType: 'Flag', id: flagId });
  let status;
  try {
    await fkc.read({ resourceType: 'Flag', id: flagId });
  } catch (e) {
    status = e.response?.status;
  }
  check(status === 410, `read after delete: ${status}`);
});

// @medplum/core's client. It refers to a global WebSocket (for its
// subscriptions, unused here) that Node before 22 does not define.
globalThis.WebSocket ??= class WebSocket {};
const { MedplumClient } = await import('@medplum/core');
const medplum = new MedplumClient({ baseUrl: `${base}/`, fhirUrlPath: '', fetch, storage: undefined });
medplum.setAccessToken(token);
await step('@medplum/core: readResource', async () => {
  const p = await medplum.readResource('Patient', pid);
  check(p.id === pid, p.id);
});
await step('@medplum/core: searchResources', async () => {
  const list = await medplum.searchResources('Patient', { family: 'Pager' });
  check(list.length >= 3, `${list.length}`);
});
await step('@medplum/core: createResource and updateResource', async () => {
  const p = await medplum.createResource(patient('Medplum'));
  p.gender = 'other';
  const u = await medplum.updateResource(p);
  check(u.meta.versionId === '2' && u.gender === 'other', JSON.stringify(u.meta));
});
await step('@medplum/core: patchResource', async () => {
  const p = await medplum.patchResource('Patient', pid, [{ op: 'add', path: '/active', value: true }]);
  check(p.active === true, JSON.stringify(p));
});
await step('@medplum/core: createResourceIfNoneExist', async () => {
  const body = patient('IfNone');
  const q = `identifier=https://example.org/client-suite|${body.identifier[0].value}`;
  const a = await medplum.createResourceIfNoneExist(body, q);
  const b = await medplum.createResourceIfNoneExist(body, q);
  check(a.id === b.id, `${a.id} then ${b.id}`);
});
await step('@medplum/core: readHistory', async () => {
  const h = await medplum.readHistory('Patient', pid);
  check(h.entry.length >= 4, `${h.entry.length}`);
});
await step('@medplum/core: executeBatch', async () => {
  const r = await medplum.executeBatch({
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ request: { method: 'GET', url: `Patient/${pid}` } }],
  });
  check(r.type === 'batch-response' && r.entry[0].response.status.startsWith('200'), JSON.stringify(r.entry));
});
await step('@medplum/core: validateResource', async () => {
  const oo = await medplum.validateResource(patient('Valid'));
  check(oo.resourceType === 'OperationOutcome', JSON.stringify(oo));
});

// A browser app's view: CORS for the origin the server allows.
if (corsOrigin) {
  await step('CORS: the preflight of a browser app is answered for its origin', async () => {
    const r = await fetch(`${base}/Patient`, {
      method: 'OPTIONS',
      headers: {
        Origin: corsOrigin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    check(r.ok, `${r.status}`);
    check(r.headers.get('access-control-allow-origin') === corsOrigin, r.headers.get('access-control-allow-origin'));
  });
  await step('CORS: a read from that origin may be read by the app', async () => {
    const r = await fetch(`${base}/Patient/${pid}`, { headers: { Origin: corsOrigin, Authorization: `Bearer ${token}` } });
    check(r.status === 200 && r.headers.get('access-control-allow-origin') === corsOrigin, `${r.status}`);
    check((r.headers.get('access-control-expose-headers') ?? '').toLowerCase().includes('etag'), 'ETag exposed');
  });
}

console.log(`npm: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

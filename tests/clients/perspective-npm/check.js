// The npm perspective-api-client 3.1.0, unchanged, against a running Vigie: its requests go
// to https://commentanalyzer.googleapis.com through axios, which an interceptor redirects to
// Vigie's address (what a site does with a proxy or a DNS entry). Prints one JSON line per
// check and exits 1 if any failed.
//
// Usage: node check.js BASE_URL API_KEY

'use strict';
const axios = require('axios');
const Perspective = require('perspective-api-client');

const [base, key] = process.argv.slice(2);
if (!base || !key) {
  console.error('usage: node check.js BASE_URL API_KEY');
  process.exit(2);
}
axios.interceptors.request.use(config => {
  config.url = config.url.replace('https://commentanalyzer.googleapis.com', base);
  return config;
});

const text = 'What kind of idiot name is foo? Sorry, I like your name.';
const checks = [];
const check = (name, ok, detail) => checks.push({ check: name, ok: Boolean(ok), detail });

async function expectError(name, client, payload, options, errorType) {
  try {
    await client.analyze(payload, options);
    check(name, false, 'no error');
  } catch (e) {
    const data = e.response && e.response.data;
    const details = (data && data.error && data.error.details) || [];
    check(
      name,
      e instanceof Perspective.ResponseError && e.response.status === 400 &&
        data.error.status === 'INVALID_ARGUMENT' && typeof e.message === 'string' && e.message.length > 0 &&
        details.some(d => d.errorType === errorType || d.reason === errorType),
      { status: e.response && e.response.status, message: e.message, details },
    );
  }
}

(async () => {
  const client = new Perspective({ apiKey: key });
  const r = await client.analyze({ comment: { text }, spanAnnotations: true }, { attributes: ['toxicity', 'insult'] });
  const tox = r.attributeScores.TOXICITY;
  check('TOXICITY summaryScore.value is a probability', tox.summaryScore.value >= 0 && tox.summaryScore.value <= 1 && tox.summaryScore.type === 'PROBABILITY', tox.summaryScore);
  check('INSULT is scored too', typeof r.attributeScores.INSULT.summaryScore.value === 'number', Object.keys(r.attributeScores));
  const spans = tox.spanScores.map(s => [s.begin, s.end]);
  check('spanScores cover the two sentences', JSON.stringify(spans) === '[[0,31],[32,56]]', spans);
  check('span scores are probabilities', tox.spanScores.every(s => s.score.value >= 0 && s.score.value <= 1 && s.score.type === 'PROBABILITY'), tox.spanScores);
  check('languages are answered', Array.isArray(r.languages) && r.languages[0] === 'en', r.languages);
  // The client's own shorthand: a string and its default TOXICITY attribute.
  const plain = await client.analyze('Merci pour cet article.');
  check('a plain string gets TOXICITY', typeof plain.attributeScores.TOXICITY.summaryScore.value === 'number', plain);
  // 20,000 characters: Perspective takes them (the client's own limit is 20,480).
  const long = await client.analyze('Très bon article. '.repeat(1100));
  check('20,000 characters are scored', typeof long.attributeScores.TOXICITY.summaryScore.value === 'number', null);
  await expectError('unknown attribute', client, { comment: { text } }, { attributes: ['NOT_AN_ATTRIBUTE'] }, 'INVALID_REQUEST');
  await expectError('unsupported language', client, { comment: { text }, languages: ['de'] }, {}, 'LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE');
  await expectError('wrong key', new Perspective({ apiKey: 'not-a-key' }), { comment: { text } }, {}, 'API_KEY_INVALID');
})()
  .catch(e => check('no unexpected error', false, String(e && e.stack || e)))
  .finally(() => {
    checks.forEach(c => console.log(JSON.stringify(c)));
    process.exit(checks.every(c => c.ok) ? 0 : 1);
  });

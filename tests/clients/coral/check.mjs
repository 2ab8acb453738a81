// Coral Talk's external moderation phase, run against a live Vigie: it builds and signs each
// request as Coral does, handles the response as Coral does, validates it with Coral's Joi
// schema and merges it with Coral's mergePhaseResult, then runs the pre-moderation phase a
// site with "pre-moderate new commenters" has. It prints one JSON line per case and exits 1
// on the first case whose final comment status is not the expected one.
//
// Followed, from coralproject/talk:
// - server/src/core/server/services/comments/pipeline/phases/external.ts at commit
//   27ac2c0ab862d47623f27883c3bffda113b5ac3a: the request, `processPhase` (a non-OK
//   status skips the phase; 204, "" or "{}" continue), `ExternalModerationResponseSchema`
//   and its options (`stripUnknown`, `presence: optional`, `abortEarly: false`), `mapActions`;
// - server/src/core/server/services/fetch/fetch.ts (`JSON.stringify(data, null, 2)`, the
//   headers, `redirect: "manual"`) and models/settings (`sha256=<hex>` joined by commas);
// - server/src/core/server/services/comments/pipeline/helpers.ts at ce140f17: mergePhaseResult;
// - server/src/core/server/graph/schema/schema.graphql at fbf51c41: COMMENT_STATUS,
//   REJECTION_REASON_CODE and RejectionReason, which a `moderationAction` carries to
//   `createComment` (stacks/createComment.ts at 037b479a).
//
// Usage: node check.mjs BASE_URL SECRET

import crypto from "node:crypto";
import Joi from "joi";

const [base, secret] = process.argv.slice(2);
if (!base || !secret) {
  console.error("usage: node check.mjs BASE_URL SECRET");
  process.exit(2);
}

const COMMENT_STATUS = ["NONE", "APPROVED", "REJECTED", "PREMOD", "SYSTEM_WITHHELD"];
const REJECTION_REASON_CODE = [
  "OFFENSIVE", "ABUSIVE", "SPAM", "BANNED_WORD", "AD", "ILLEGAL_CONTENT",
  "HARASSMENT_BULLYING", "MISINFORMATION", "HATE_SPEECH", "IRRELEVANT_CONTENT", "OTHER",
];

const ExternalModerationResponseSchema = Joi.object().keys({
  actions: Joi.array().items(
    Joi.object().keys({
      actionType: Joi.string().only().allow("FLAG").required(),
      reason: Joi.string()
        .only()
        .allow("COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM")
        .required(),
    })
  ),
  status: Joi.string().only().allow(...COMMENT_STATUS),
  tags: Joi.array().items(Joi.string().only().allow("FEATURED", "STAFF").required()),
});

// What a `moderationAction` must hold to reach createComment's `moderate(...)` and the
// COMMENT_REJECTED notification: RejectionReason's `code` is required, the rest optional.
const ModerationActionSchema = Joi.object({
  status: Joi.string().valid("REJECTED").required(),
  rejectionReason: Joi.object({
    code: Joi.string().valid(...REJECTION_REASON_CODE).required(),
    legalGrounds: Joi.string(),
    detailedExplanation: Joi.string(),
    customReason: Joi.string(),
  }).required(),
});

function validateResponse(body) {
  const { value, error } = ExternalModerationResponseSchema.validate(body, {
    stripUnknown: true,
    presence: "optional",
    abortEarly: false,
  });
  if (error) throw error;
  return value;
}

function mergePhaseResult(result, final) {
  const { commentActions = [], tags = [], metadata = {} } = final;
  if (result.commentActions) final.commentActions = [...commentActions, ...result.commentActions];
  if (result.moderationAction) final.moderationAction = result.moderationAction;
  if (result.metadata) final.metadata = { ...metadata, ...result.metadata };
  if (result.body !== undefined) final.body = result.body;
  if (result.tags && result.tags.length > 0) {
    final.tags = [...tags, ...result.tags.filter((t) => !tags.includes(t))];
  }
  if (result.status) {
    final.status = result.status;
    return true;
  }
  return false;
}

function sign(body, key) {
  return "sha256=" + crypto.createHmac("sha256", key).update(body).digest().toString("hex");
}

function request(text) {
  return {
    action: "NEW",
    comment: { body: text, parentID: null },
    author: { id: "new-commenter-" + crypto.randomUUID(), role: "COMMENTER" },
    story: { id: "story-1", url: "https://news.example/story-1" },
    site: { id: "site-1" },
    tenantID: "tenant-1",
    tenantDomain: "news.example",
  };
}

// processPhase, then the phase's merge; returns what Coral's `external` phase returns.
async function externalPhase(data, signingSecret = secret) {
  const body = JSON.stringify(data, null, 2);
  const signature = sign(body, signingSecret);
  const res = await fetch(`${base}/v1/integrations/coral`, {
    method: "POST",
    headers: {
      "User-Agent": "Coral Moderation/9.0.0",
      "Content-Type": "application/json",
      "X-Coral-Signature": signature,
    },
    body,
    redirect: "manual",
  });
  const result = {};
  if (!res.ok) return { skipped: res.status, result };
  const text = await res.text();
  if (res.status === 204 || text === "" || text === "{}") return { http: res.status, result };
  const raw = JSON.parse(text);
  const response = validateResponse(raw);
  if (raw.moderationAction !== undefined) {
    const { error } = ModerationActionSchema.validate(raw.moderationAction);
    if (error) throw new Error(`moderationAction: ${error.message}`);
  }
  const mapped = { ...response, commentActions: response.actions };
  if (raw.moderationAction) mapped.moderationAction = raw.moderationAction;
  mergePhaseResult(mapped, result);
  return { http: res.status, raw, result };
}

// The pipeline from the external phase on, for a story whose site pre-moderates new
// commenters: statusPreModerateNewCommenter runs after the external phase.
async function pipeline(data, signingSecret) {
  const final = { status: "NONE", commentActions: [], tags: [] };
  const phase = await externalPhase(data, signingSecret);
  const finished = mergePhaseResult(phase.result, final);
  if (!finished) mergePhaseResult({ status: "PREMOD" }, final);
  return { ...phase, final };
}

const cases = [
  { name: "civil comment of a new commenter", text: "Merci pour cet article très complet.", status: "PREMOD" },
  { name: "rude comment", text: "Quelle bande de bras cassés", status: "SYSTEM_WITHHELD", flag: true },
  { name: "insults", text: "Bande de guignols et de connards, démission !", status: "REJECTED", rejection: true },
  { name: "20,000 characters", text: "Merci pour cet article très complet. ".repeat(541), status: "SYSTEM_WITHHELD" },
  { name: "body over 1 MiB", text: "Très bon article. ".repeat(60000), status: "SYSTEM_WITHHELD" },
  { name: "image only", text: '<p><img src="https://news.example/cat.gif"/></p>', status: "PREMOD" },
  // A bad signature is refused; Coral then skips the phase, as it must for a forgery.
  { name: "bad signature", text: "Merci", secret: "not-the-secret", status: "PREMOD", skipped: 401 },
];

let failed = false;
for (const c of cases) {
  let out;
  try {
    out = await pipeline(request(c.text), c.secret ?? secret);
  } catch (e) {
    out = { error: String(e) };
  }
  const problems = [];
  if (out.error) problems.push(out.error);
  else {
    if (out.final.status !== c.status) problems.push(`final status ${out.final.status}, expected ${c.status}`);
    if ((out.skipped ?? null) !== (c.skipped ?? null)) problems.push(`phase skipped with HTTP ${out.skipped}`);
    const flagged = out.final.commentActions.some((a) => a.actionType === "FLAG" && a.reason === "COMMENT_DETECTED_TOXIC");
    if (c.flag && !flagged) problems.push("no COMMENT_DETECTED_TOXIC flag");
    if (c.rejection) {
      const reason = out.final.moderationAction?.rejectionReason;
      if (!reason) problems.push("no moderationAction");
      else if (!reason.detailedExplanation) problems.push("no detailedExplanation");
    } else if (out.final.moderationAction) {
      problems.push("a moderationAction on a comment that is not rejected");
    }
  }
  console.log(JSON.stringify({ case: c.name, ok: problems.length === 0, problems, http: out.http ?? out.skipped, final: out.final }));
  failed ||= problems.length > 0;
}
process.exit(failed ? 1 : 0);

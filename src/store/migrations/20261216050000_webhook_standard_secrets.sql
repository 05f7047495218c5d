-- Standard Webhooks (https://www.standardwebhooks.com): a secret is `whsec_` + base64 of the
-- key bytes. Secrets created before were `whsec_<base64url>` used as they stand, their UTF-8
-- text being the HMAC key. That text is the key, so nothing is lost: each is rewritten as the
-- standard secret of the same key ('whsec_' || base64 of its UTF-8 bytes), and marked
-- legacy_signature, so its deliveries keep the old x-modelgov-timestamp/-signature headers
-- beside the standard ones and the receivers verifying those go on verifying. The operator
-- is told (API field, `webhooks list`, a warning at start-up, docs/webhooks.md).
ALTER TABLE webhook_subscriptions ADD COLUMN legacy_signature BOOLEAN NOT NULL DEFAULT false;
UPDATE webhook_subscriptions
   SET secret = 'whsec_' || replace(encode(convert_to(secret, 'UTF8'), 'base64'), E'\n', ''),
       legacy_signature = true;
-- Only standard secrets from now on: a replica still on the old code during a rolling upgrade
-- fails loudly creating a subscription rather than storing a secret the new code misreads.
ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_standard_secret
  CHECK (secret ~ '^whsec_([A-Za-z0-9+/]{4})+([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$');

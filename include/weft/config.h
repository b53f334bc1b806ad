#ifndef WEFT_CONFIG_H
#define WEFT_CONFIG_H
/*
 * Model configuration: the roles `generator`, `judge`, `verifier` (checks
 * a pair's label: verify.h), `embedder` (vectors of texts for weft map:
 * POST {base}/embeddings, its endpoint always embeddings) and any number of
 * `scorer.NAME`, each an endpoint and its settings.
 *
 * Sources, later ones winning: built-in defaults; the file
 * $XDG_CONFIG_HOME/weft/config (else ~/.config/weft/config); environment
 * variables; command-line flags (config_set).  The file is INI-like:
 *
 *     # comment
 *     [generator]
 *     base_url = https://api.openai.com/v1
 *     model = gpt-4o-mini
 *
 * Keys (per role): base_url (several, comma-separated, spread requests),
 * model, api_key_env (the NAME of the variable holding the key; default
 * OPENAI_API_KEY), endpoint (chat|completions), temperature (0..2),
 * max_tokens, n, timeout (seconds), concurrency, retries (max retries),
 * retry_base_ms and retry_cap_ms (the backoff: full jitter in [0, min(cap,
 * base * 2^k)]), retry_after_cap_ms (the longest Retry-After obeyed), n_mode (auto|native|fanout),
 * size (parameters, e.g. 350e6), family. An unknown section or key, or a bad value, is an error
 * naming file, line and key.
 *
 * Environment: OPENAI_BASE_URL is the base URL of roles that set none
 * (instead of https://api.openai.com/v1); WEFT_BASE_URL overrides every
 * role's; WEFT_<ROLE>_MODEL and WEFT_<ROLE>_BASE_URL one role's (ROLE is
 * GENERATOR, JUDGE, VERIFIER, EMBEDDER, or SCORER_NAME upper-cased, with '.' and '-' as '_').
 * WEFT_SCORER_NAME_MODEL or _BASE_URL creates scorer.name (lower case)
 * when no role answers to that name yet.
 * The key itself is never read here: the engine reads api_key_env when it
 * sends.
 */
#include <stddef.h>

#include "weft/errbuf.h"
#include "weft/lm.h"

#define CONFIG_DEFAULT_BASE_URL "https://api.openai.com/v1"
/* A role's requests in flight at once, unless its section says otherwise. */
#define CONFIG_DEFAULT_CONCURRENCY 8
#define CONFIG_MAX_CONCURRENCY	   1024
/* The verifier answers Yes or No; a few tokens leave room for a "Yes." */
#define CONFIG_VERIFIER_MAX_TOKENS 4

struct config_role {
	char *name;	   /* owned: "generator", "judge", "verifier", "embedder", "scorer.NAME" */
	char *base_url;	   /* owned; NULL = OPENAI_BASE_URL or the default */
	char *model;	   /* owned; NULL = not configured */
	char *api_key_env; /* owned; never NULL after init */
	char *family;	   /* owned; may be NULL */
	enum lm_endpoint endpoint;
	double temperature;
	int max_tokens;
	int max_tokens_set; /* 1 when max_tokens came from a file, flag or env */
	int n;
	long timeout_ms;
	int concurrency;
	int retries;
	long retry_base_ms;	 /* backoff base; default LM_DEFAULT_RETRY_BASE_MS */
	long retry_cap_ms;	 /* backoff cap; default LM_DEFAULT_RETRY_CAP_MS */
	long retry_after_cap_ms; /* cap on Retry-After; LM_DEFAULT_RETRY_AFTER_CAP_MS */
	enum lm_n_mode n_mode;
	double size;	    /* parameters; 0 = unknown */
	int allow_http_key; /* send the key over plain http to another host */
};

struct config {
	struct config_role *roles; /* owned; generator, judge, verifier, embedder first */
	size_t nroles, roles_cap;
};

/* Defaults: generator (n 5, temperature 1.0, max_tokens 60), judge
 * (temperature 0; max_tokens unset: steering uses its rank mode's) and
 * verifier (temperature 0, max_tokens CONFIG_VERIFIER_MAX_TOKENS) and
 * embedder (endpoint LM_EMBEDDINGS), no model. */
void config_init(struct config *c);
void config_release(struct config *c);

/*
 * Parses a config file's text (len bytes, need not be NUL-terminated) into
 * c; filename is only for messages.  Returns 0, or -1 with err =
 * "FILE:LINE: key 'K': why".  Safe on any input (fuzzed).
 */
int config_parse(struct config *c, const char *buf, size_t len, const char *filename,
		 struct errbuf *err);

/* The default file path (caller frees), or NULL when neither
 * XDG_CONFIG_HOME nor HOME is set. */
char *config_default_path(void);

/* Reads and parses path; a missing file is not an error (returns 0).
 * Errors name the file and the reason: "config file PATH: strerror". */
int config_load_file(struct config *c, const char *path, struct errbuf *err);

/* Applies the WEFT_* variables described above.  Returns 0 or -1 with err. */
int config_apply_env(struct config *c, struct errbuf *err);

/*
 * Everything but flags: defaults, then path (or the default path when
 * NULL), then the environment.  A path given (not NULL) must be a readable
 * file: missing or a folder is an error naming it and why; the default
 * path may be missing.
 */
int config_load(struct config *c, const char *path, struct errbuf *err);

/*
 * Sets one key as a flag would: spec is "ROLE.KEY=VALUE" (e.g.
 * "judge.model=gpt-4o", "scorer.small.size=125e6").  Creates scorer roles.
 * Returns 0 or -1 with err naming the key.
 */
int config_set(struct config *c, const char *spec, struct errbuf *err);

/* The role called name, or NULL. */
struct config_role *config_role(struct config *c, const char *name);
/* scorer.NAME, else the scorer whose WEFT_SCORER_..._ form is the same as
 * NAME's (scorer.gpt_4o for gpt-4o: the one the environment made); NULL. */
struct config_role *config_scorer(struct config *c, const char *name);
/*
 * For a name that is no configured scorer (`weft eval --models gpt-4o-mini`):
 * the scorer asking for model NAME on the default endpoint (WEFT_BASE_URL,
 * else OPENAI_BASE_URL, else CONFIG_DEFAULT_BASE_URL) with the default scorer
 * settings.  A scorer.NAME that has settings but no model (from --set or the
 * environment) gets model NAME and keeps them.  NULL when NAME cannot be a
 * model id (empty, longer than 256 bytes, spaces or control characters).
 */
struct config_role *config_model_scorer(struct config *c, const char *name);
/* 1 when the role has a model. */
int config_role_configured(const struct config_role *r);
/* The role's base URL(s) after the OPENAI_BASE_URL/default fallback. */
const char *config_role_base_url(const struct config_role *r);

/*
 * Fills req (init'ed by the caller) with the role's endpoint and settings:
 * kind, base_url, model, api_key_env, role, temperature, max_tokens, n,
 * timeout, concurrency, retries, retry_base_ms, retry_cap_ms,
 * retry_after_cap_ms, n_mode.  The caller adds messages/prompt.
 */
void config_role_request(const struct config_role *r, struct lm_request *req);

/* Tells engine e to hide every configured role's key (lm_engine_hide_key_env),
 * whichever roles a command uses. */
void config_hide_keys(const struct config *c, struct lm_engine *e);

#endif

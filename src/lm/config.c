#include "weft/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weft/num.h"
#include "weft/regfile.h"
#include "weft/strbuf.h"
#include "weft/xalloc.h"

#define CONFIG_MAX_FILE (1u << 20)

extern char **environ;

static void role_init(struct config_role *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->api_key_env = xstrdup("OPENAI_API_KEY");
	r->endpoint = LM_CHAT;
	r->temperature = 1.0;
	r->max_tokens = 60;
	r->n = 1;
	r->timeout_ms = LM_DEFAULT_TIMEOUT_MS;
	r->concurrency = CONFIG_DEFAULT_CONCURRENCY;
	r->retries = LM_DEFAULT_RETRIES;
	r->retry_base_ms = LM_DEFAULT_RETRY_BASE_MS;
	r->retry_cap_ms = LM_DEFAULT_RETRY_CAP_MS;
	r->retry_after_cap_ms = LM_DEFAULT_RETRY_AFTER_CAP_MS;
	r->n_mode = LM_N_AUTO;
}

static void role_release(struct config_role *r)
{
	free(r->name);
	free(r->base_url);
	free(r->model);
	free(r->api_key_env);
	free(r->family);
}

static struct config_role *role_add(struct config *c, const char *name)
{
	XGROW(c->roles, c->roles_cap, c->nroles + 1);
	role_init(&c->roles[c->nroles], name);
	return &c->roles[c->nroles++];
}

void config_init(struct config *c)
{
	struct config_role *r;

	memset(c, 0, sizeof(*c));
	r = role_add(c, "generator");
	r->n = 5;
	r->temperature = 1.0;
	r->max_tokens = 60;
	r = role_add(c, "judge");
	r->temperature = 0.0;
	r->max_tokens = 16;
	/* a Yes or No is all the verifier says: a few tokens, no sampling */
	r = role_add(c, "verifier");
	r->temperature = 0.0;
	r->max_tokens = CONFIG_VERIFIER_MAX_TOKENS;
	/* vectors of texts for weft map: no sampling settings are sent */
	r = role_add(c, "embedder");
	r->endpoint = LM_EMBEDDINGS;
}

void config_release(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nroles; i++)
		role_release(&c->roles[i]);
	free(c->roles);
	memset(c, 0, sizeof(*c));
}

struct config_role *config_role(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nroles; i++)
		if (!strcmp(c->roles[i].name, name))
			return &c->roles[i];
	return NULL;
}

int config_role_configured(const struct config_role *r)
{
	return r && r->model && *r->model;
}

const char *config_role_base_url(const struct config_role *r)
{
	const char *env;

	if (r->base_url && *r->base_url)
		return r->base_url;
	env = getenv("OPENAI_BASE_URL");
	if (env && *env)
		return env;
	return CONFIG_DEFAULT_BASE_URL;
}

/* scorer.NAME with NAME of [A-Za-z0-9_.-]+ */
static int valid_role_name(const char *s)
{
	const char *p;

	if (!strcmp(s, "generator") || !strcmp(s, "judge") || !strcmp(s, "verifier") ||
	    !strcmp(s, "embedder"))
		return 1;
	if (strncmp(s, "scorer.", 7) || !s[7])
		return 0;
	for (p = s + 7; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return 0;
	return 1;
}

/* Sets a key whose value is a word or a string.  Returns 0, -1 with err,
 * or 1 when key is not one of these. */
static int role_set_text(struct config_role *r, const char *key, const char *value,
			 struct errbuf *err)
{
	if (!strcmp(key, "base_url")) {
		if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
			return errbuf_set(err, "key '%s': expected an http:// or https:// URL",
					  key);
		free(r->base_url);
		r->base_url = xstrdup(value);
	} else if (!strcmp(key, "model")) {
		free(r->model);
		r->model = *value ? xstrdup(value) : NULL;
	} else if (!strcmp(key, "api_key_env")) {
		const char *p;

		if (!*value)
			return errbuf_set(err, "key '%s': expected a variable name", key);
		for (p = value; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_')
				return errbuf_set(err,
						  "key '%s': expected the NAME of an environment "
						  "variable (letters, digits, _), not a key",
						  key);
		free(r->api_key_env);
		r->api_key_env = xstrdup(value);
	} else if (!strcmp(key, "family")) {
		free(r->family);
		r->family = xstrdup(value);
	} else if (!strcmp(key, "endpoint")) {
		if (!strcmp(r->name, "embedder")) {
			if (strcmp(value, "embeddings"))
				return errbuf_set(
				    err, "key '%s': the embedder's endpoint is embeddings", key);
		} else if (!strcmp(value, "chat"))
			r->endpoint = LM_CHAT;
		else if (!strcmp(value, "completions"))
			r->endpoint = LM_COMPLETIONS;
		else
			return errbuf_set(err, "key '%s': expected chat or completions", key);
	} else if (!strcmp(key, "n_mode")) {
		if (!strcmp(value, "auto"))
			r->n_mode = LM_N_AUTO;
		else if (!strcmp(value, "native"))
			r->n_mode = LM_N_NATIVE;
		else if (!strcmp(value, "fanout"))
			r->n_mode = LM_N_FANOUT;
		else
			return errbuf_set(err, "key '%s': expected auto, native or fanout", key);
	} else if (!strcmp(key, "allow_http_key")) {
		if (!strcmp(value, "true") || !strcmp(value, "1"))
			r->allow_http_key = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "0"))
			r->allow_http_key = 0;
		else
			return errbuf_set(err, "key '%s': expected true or false", key);
	} else {
		return 1;
	}
	return 0;
}

/* Sets a key whose value is a number.  Returns 0, -1 with err, or 1 when
 * key is not one of these. */
static int role_set_number(struct config_role *r, const char *key, const char *value,
			   struct errbuf *err)
{
	double d;
	long l;

	if (!strcmp(key, "temperature")) {
		if (num_parse_double(value, 0, 2, &d))
			return errbuf_set(err, "key '%s': expected a number from 0 to 2", key);
		r->temperature = d;
	} else if (!strcmp(key, "size")) {
		if (num_parse_double(value, 0, 1e15, &d))
			return errbuf_set(err, "key '%s': expected a parameter count like 350e6",
					  key);
		r->size = d;
	} else if (!strcmp(key, "timeout")) {
		if (num_parse_double(value, 0.001, 86400, &d))
			return errbuf_set(err, "key '%s': expected seconds (0.001 to 86400)", key);
		r->timeout_ms = (long)ceil(d * 1000);
	} else if (!strcmp(key, "max_tokens")) {
		if (num_parse_long(value, 0, 1000000, &l))
			return errbuf_set(err, "key '%s': expected a whole number >= 0", key);
		r->max_tokens = (int)l;
		r->max_tokens_set = 1;
	} else if (!strcmp(key, "n")) {
		if (num_parse_long(value, 1, LM_MAX_N, &l))
			return errbuf_set(err, "key '%s': expected a whole number from 1 to %d",
					  key, LM_MAX_N);
		r->n = (int)l;
	} else if (!strcmp(key, "concurrency")) {
		if (num_parse_long(value, 1, CONFIG_MAX_CONCURRENCY, &l))
			return errbuf_set(err, "key '%s': expected a whole number from 1 to %d",
					  key, CONFIG_MAX_CONCURRENCY);
		r->concurrency = (int)l;
	} else if (!strcmp(key, "retries")) {
		if (num_parse_long(value, 0, 20, &l))
			return errbuf_set(err, "key '%s': expected a whole number from 0 to 20",
					  key);
		r->retries = (int)l;
	} else if (!strcmp(key, "retry_base_ms") || !strcmp(key, "retry_cap_ms") ||
		   !strcmp(key, "retry_after_cap_ms")) {
		if (num_parse_long(value, 0, 3600000, &l))
			return errbuf_set(err, "key '%s': expected milliseconds from 0 to 3600000",
					  key);
		if (key[6] == 'b')
			r->retry_base_ms = l;
		else if (key[6] == 'c')
			r->retry_cap_ms = l;
		else
			r->retry_after_cap_ms = l;
	} else {
		return 1;
	}
	return 0;
}

/* Sets key to value in r.  Returns 0, -1 with err = "key 'K': why" (the
 * caller prefixes the place). */
static int role_set(struct config_role *r, const char *key, const char *value, struct errbuf *err)
{
	int rc = role_set_text(r, key, value, err);

	if (rc <= 0)
		return rc;
	rc = role_set_number(r, key, value, err);
	if (rc <= 0)
		return rc;
	return errbuf_set(err,
			  "key '%s': unknown key (known: base_url, model, api_key_env, "
			  "endpoint, temperature, max_tokens, n, timeout, concurrency, "
			  "retries, retry_base_ms, retry_cap_ms, retry_after_cap_ms, n_mode, "
			  "size, family, allow_http_key)",
			  key);
}

static struct config_role *role_get_or_add(struct config *c, const char *name)
{
	struct config_role *r = config_role(c, name);

	return r ? r : role_add(c, name);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A "[SECTION]" line s: its role (made if new) becomes *section. */
static int parse_section(struct config *c, char *s, char **section, const char *filename,
			 size_t lineno, struct errbuf *err)
{
	char *close = strchr(s, ']');

	if (!close || *trim(close + 1))
		return errbuf_set(err, "%s:%zu: expected [SECTION]", filename, lineno);
	*close = '\0';
	s = trim(s + 1);
	if (!valid_role_name(s))
		return errbuf_set(err,
				  "%s:%zu: section [%.100s]: unknown section (known: "
				  "generator, judge, verifier, embedder, scorer.NAME)",
				  filename, lineno, s);
	free(*section);
	*section = xstrdup(s);
	role_get_or_add(c, *section);
	return 0;
}

/* A "key = value" line s, in section (NULL: before any). */
static int parse_key(struct config *c, char *s, const char *section, const char *filename,
		     size_t lineno, struct errbuf *err)
{
	char *eq = strchr(s, '='), *key, *value, *h;

	if (!eq)
		return errbuf_set(err, "%s:%zu: expected 'key = value'", filename, lineno);
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	/* inline comment: " #" */
	h = strstr(value, " #");
	if (h) {
		*h = '\0';
		value = trim(value);
	}
	if (strlen(value) >= 2 && value[0] == '"' && value[strlen(value) - 1] == '"') {
		value[strlen(value) - 1] = '\0';
		value++;
	}
	if (!section)
		return errbuf_set(err, "%s:%zu: key '%.100s': outside any [section]", filename,
				  lineno, key);
	if (role_set(config_role(c, section), key, value, err) < 0) {
		errbuf_prefix(err, "%s:%zu", filename, lineno);
		return -1;
	}
	return 0;
}

int config_parse(struct config *c, const char *buf, size_t len, const char *filename,
		 struct errbuf *err)
{
	struct strbuf line = STRBUF_INIT;
	size_t pos = 0, lineno = 0;
	char *section = NULL;
	int rc = 0;

	if (!filename)
		filename = "(config)";
	while (pos < len && rc == 0) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		char *s;

		lineno++;
		strbuf_reset(&line);
		strbuf_add(&line, buf + pos, n);
		pos += n + (nl ? 1 : 0);
		if (strlen(line.data) != line.len) {
			rc = errbuf_set(err, "%s:%zu: NUL byte in line", filename, lineno);
			break;
		}
		s = trim(line.data);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
			rc = parse_section(c, s, &section, filename, lineno, err);
		else
			rc = parse_key(c, s, section, filename, lineno, err);
	}
	free(section);
	strbuf_release(&line);
	return rc;
}

char *config_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	struct strbuf sb = STRBUF_INIT;

	if (xdg && *xdg)
		strbuf_addf(&sb, "%s/weft/config", xdg);
	else if (home && *home)
		strbuf_addf(&sb, "%s/.config/weft/config", home);
	else
		return NULL;
	return strbuf_detach(&sb, NULL);
}

/* Reads and parses path; a missing file is an error only when must_exist. */
static int load_file(struct config *c, const char *path, int must_exist, struct errbuf *err)
{
	struct errbuf ferr;
	FILE *f = regfile_fopen(path, &ferr);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	int rc;

	if (!f) {
		int e = errno;

		if (e == ENOENT && !must_exist)
			return 0;
		if (e == EINVAL) /* a FIFO, a device: refused before reading */
			return errbuf_set(err, "config file %s", ferr.msg);
		return errbuf_set(err, "config file %s: %s", path, strerror(e));
	}
	strbuf_set_max(&sb, CONFIG_MAX_FILE);
	for (n = fread(buf, 1, sizeof(buf), f); n > 0; n = fread(buf, 1, sizeof(buf), f)) {
		if (strbuf_add(&sb, buf, n) < 0) {
			fclose(f);
			strbuf_release(&sb);
			return errbuf_set(err, "config file %s: larger than %u bytes", path,
					  CONFIG_MAX_FILE);
		}
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		strbuf_release(&sb);
		return errbuf_set(err, "config file %s: %s", path, strerror(e));
	}
	fclose(f);
	rc = config_parse(c, sb.data, sb.len, path, err);
	strbuf_release(&sb);
	return rc;
}

int config_load_file(struct config *c, const char *path, struct errbuf *err)
{
	return load_file(c, path, 0, err);
}

/* The WEFT_<ROLE>_ form of a role name: "scorer.gpt-4o" -> "SCORER_GPT_4O". */
static void role_env_name(const char *name, struct strbuf *out)
{
	const char *p;

	strbuf_reset(out);
	for (p = name; *p; p++)
		strbuf_addch(out, *p == '.' || *p == '-' ? '_' : toupper((unsigned char)*p));
}

/* WEFT_<ROLE>_<WHAT> for role name */
static const char *role_env(const char *name, const char *what, struct strbuf *tmp)
{
	struct strbuf upper = STRBUF_INIT;

	role_env_name(name, &upper);
	strbuf_reset(tmp);
	strbuf_addf(tmp, "WEFT_%s_", upper.data);
	strbuf_release(&upper);
	strbuf_addstr(tmp, what);
	return getenv(tmp->data);
}

struct config_role *config_scorer(struct config *c, const char *name)
{
	struct strbuf want = STRBUF_INIT, tmp = STRBUF_INIT, full = STRBUF_INIT;
	struct config_role *found;
	size_t i;

	strbuf_addf(&full, "scorer.%s", name);
	found = config_role(c, full.data);
	if (!found) {
		role_env_name(full.data, &want);
		for (i = 0; i < c->nroles && !found; i++) {
			role_env_name(c->roles[i].name, &tmp);
			if (!strncmp(c->roles[i].name, "scorer.", 7) &&
			    !strcmp(tmp.data, want.data))
				found = &c->roles[i];
		}
	}
	strbuf_release(&want);
	strbuf_release(&tmp);
	strbuf_release(&full);
	return found;
}

struct config_role *config_model_scorer(struct config *c, const char *name)
{
	struct config_role *r;
	struct strbuf full = STRBUF_INIT;
	struct errbuf ignored;
	const char *p, *all = getenv("WEFT_BASE_URL");

	if (!*name || strlen(name) > 256)
		return NULL;
	for (p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return NULL;
	r = config_scorer(c, name);
	if (!r) {
		strbuf_addf(&full, "scorer.%s", name);
		r = role_add(c, full.data);
		strbuf_release(&full);
		/* the environment's endpoint for every role, as config_apply_env
		 * gave the others */
		if (all && *all)
			role_set(r, "base_url", all, &ignored);
	}
	if (!config_role_configured(r)) {
		free(r->model);
		r->model = xstrdup(name);
	}
	return r;
}

/*
 * Creates scorer.NAME for every WEFT_SCORER_NAME_MODEL or _BASE_URL in the
 * environment that no role answers to yet; NAME is the variable's part in
 * lower case (WEFT_SCORER_GPT_4O_MODEL: scorer.gpt_4o, which config_scorer
 * also finds as gpt-4o).
 */
static void scorers_from_env(struct config *c)
{
	static const char *const suffixes[] = {"_BASE_URL", "_MODEL"};
	struct strbuf name = STRBUF_INIT, tmp = STRBUF_INIT;
	char **e;
	size_t i, k;

	for (e = environ; e && *e; e++) {
		const char *var = *e, *eq = strchr(var, '='), *start = var + strlen("WEFT_SCORER_");
		size_t len, slen;

		if (!eq || strncmp(var, "WEFT_SCORER_", strlen("WEFT_SCORER_")) || !eq[1])
			continue;
		for (k = 0; k < 2; k++) {
			slen = strlen(suffixes[k]);
			len = (size_t)(eq - start);
			if (len > slen && !strncmp(eq - slen, suffixes[k], slen))
				break;
		}
		if (k == 2)
			continue;
		len -= slen;
		strbuf_reset(&name);
		strbuf_addstr(&name, "scorer.");
		for (i = 0; i < len; i++)
			strbuf_addch(&name, (char)tolower((unsigned char)start[i]));
		if (!valid_role_name(name.data))
			continue;
		role_env_name(name.data, &tmp);
		for (i = 0; i < c->nroles; i++) {
			struct strbuf other = STRBUF_INIT;
			int same;

			role_env_name(c->roles[i].name, &other);
			same = !strcmp(other.data, tmp.data);
			strbuf_release(&other);
			if (same)
				break;
		}
		if (i == c->nroles)
			role_add(c, name.data);
	}
	strbuf_release(&name);
	strbuf_release(&tmp);
}

int config_apply_env(struct config *c, struct errbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *all = getenv("WEFT_BASE_URL");
	size_t i;
	int rc = 0;

	scorers_from_env(c);
	for (i = 0; i < c->nroles && rc == 0; i++) {
		struct config_role *r = &c->roles[i];
		const char *v;

		if (all && *all && role_set(r, "base_url", all, err) < 0) {
			rc = errbuf_prefix(err, "environment WEFT_BASE_URL");
			break;
		}
		v = role_env(r->name, "BASE_URL", &tmp);
		if (v && *v && role_set(r, "base_url", v, err) < 0) {
			rc = errbuf_prefix(err, "environment %s", tmp.data);
			break;
		}
		v = role_env(r->name, "MODEL", &tmp);
		if (v && *v)
			role_set(r, "model", v, err);
	}
	strbuf_release(&tmp);
	return rc;
}

int config_load(struct config *c, const char *path, struct errbuf *err)
{
	char *def = NULL;
	int rc;

	if (!path)
		path = def = config_default_path();
	/* a file named on the command line must be there; the default need not */
	rc = path ? load_file(c, path, def == NULL, err) : 0;
	free(def);
	if (rc == 0)
		rc = config_apply_env(c, err);
	return rc;
}

int config_set(struct config *c, const char *spec, struct errbuf *err)
{
	const char *eq = strchr(spec, '='), *dot;
	char *name, *key;
	struct config_role *r;
	int rc;

	if (!eq)
		return errbuf_set(err, "'%.100s': expected ROLE.KEY=VALUE", spec);
	dot = eq;
	while (dot > spec && dot[-1] != '.')
		dot--;
	if (dot == spec)
		return errbuf_set(err, "'%.100s': expected ROLE.KEY=VALUE", spec);
	name = xstrndup(spec, (size_t)(dot - 1 - spec));
	key = xstrndup(dot, (size_t)(eq - dot));
	if (!valid_role_name(name)) {
		rc = errbuf_set(
		    err,
		    "'%.100s': unknown role '%.60s' (generator, judge, verifier, embedder, "
		    "scorer.NAME)",
		    spec, name);
	} else {
		r = role_get_or_add(c, name);
		rc = role_set(r, key, eq + 1, err);
		if (rc < 0)
			errbuf_prefix(err, "flag %s", name);
	}
	free(name);
	free(key);
	return rc;
}

void config_role_request(const struct config_role *r, struct lm_request *req)
{
	req->kind = r->endpoint;
	lm_request_set(&req->base_url, config_role_base_url(r));
	lm_request_set(&req->model, r->model);
	lm_request_set(&req->api_key_env, r->api_key_env);
	lm_request_set(&req->role, r->name);
	req->temperature = r->temperature;
	req->max_tokens = r->max_tokens;
	req->n = r->n;
	req->timeout_ms = r->timeout_ms;
	req->concurrency = r->concurrency;
	req->retry.max_retries = r->retries;
	req->retry.base_ms = r->retry_base_ms;
	req->retry.cap_ms = r->retry_cap_ms;
	req->retry.max_retry_after_ms = r->retry_after_cap_ms;
	req->n_mode = r->n_mode;
	req->allow_http_key = r->allow_http_key;
}

void config_hide_keys(const struct config *c, struct lm_engine *e)
{
	size_t i;

	for (i = 0; i < c->nroles; i++)
		lm_engine_hide_key_env(e, c->roles[i].api_key_env);
}

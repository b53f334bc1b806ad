#ifndef WEFT_REPLAY_H
#define WEFT_REPLAY_H
/*
 * Replay: the decisions along a session's chosen path, and re-judging them.
 *
 * replay_walk_build walks the chosen path: one step per node after the
 * root, grown from the node before it.  A step's candidates, scores and
 * picks come from the decision record steering wrote on that node; for a
 * node without a record (a Bonsai file from elsewhere) the candidates are
 * its visible children, with their scores when every one has one, the
 * judge's pick the child marked as such, and who picked unknown unless the
 * chosen child is marked as a person's pick.  The final pick is always the
 * next node on the path.  When the tip of the chosen path has a decision
 * record with candidates and no final pick (a step left for a person, by
 * the judge or by `weft generate` exiting 3), it is the last step, marked
 * waiting, with final_pick TREE_NONE.  Nothing here prints or changes the
 * tree.  Building is linear in the nodes on the path and their children.
 *
 * replay_rejudge asks a judge to rank each step's candidates again, all
 * steps at once on the lm engine (steer_judge_start: the same prompt
 * rendering and retries as steering), and compares.
 */
#include <stddef.h>
#include <stdint.h>

#include "weft/config.h"
#include "weft/errbuf.h"
#include "weft/lm.h"
#include "weft/pairs.h"
#include "weft/steer.h"
#include "weft/task.h"
#include "weft/tree.h"

struct replay_step {
	uint32_t node;	      /* the node the step grew from */
	uint32_t *candidates; /* owned; count node indices */
	double *scores;	      /* owned; count entries, or NULL when unknown */
	size_t count;
	uint32_t judge_pick;	 /* a candidate, or TREE_NONE */
	uint32_t final_pick;	 /* the next node on the chosen path */
	long final_index;	 /* position of final_pick in candidates, or -1 */
	long judge_index;	 /* position of judge_pick in candidates, or -1 */
	enum tree_picker picker; /* TREE_PICKER_NONE: unknown */
	int has_record;		 /* 1 when a decision record was there */
	int override;		 /* a person picked another than the judge's pick */
	/* the step at the tip of the chosen path that has candidates and no
	 * final pick yet (final_pick TREE_NONE): it waits for a person */
	int waiting;
	const char *needs_human; /* borrowed from the tree, or NULL */
	const char *rank_mode;	 /* borrowed, or NULL */
};

struct replay_walk {
	struct replay_step *steps; /* owned; count entries, path order */
	size_t count;
	size_t overrides;	/* steps with override set */
	size_t needed_human;	/* steps whose record says the judge could not pick */
	size_t waiting;		/* 0 or 1: the last step waits for a person */
	size_t scored;		/* steps whose final pick has a score */
	double mean_pick_score; /* over those steps; 0 when none */
	/* pairs along the chosen path (after the root) per class */
	int balance_ok; /* 0 when extraction failed (balance_error says why) */
	char balance_error[ERRBUF_SIZE];
	char *labels[PAIRS_MAX_LABELS]; /* owned */
	size_t per_class[PAIRS_MAX_LABELS];
	size_t nlabels;
	size_t pairs; /* kept pairs */
	/* nodes looked at while building (children walked, candidates
	 * checked): at most twice the children of the path's nodes plus their
	 * candidates, so a walk is linear in the session however many
	 * children a node has or however deep the path is (the tests hold it
	 * to that) */
	size_t visits;
};

/*
 * Builds the walk of t's chosen path into w (which the caller releases
 * with replay_walk_release).  The Yes/No balance uses task's pattern and
 * labels, or the seed's defaults when task is NULL.  Never fails: missing
 * information is left unknown.
 */
void replay_walk_build(const struct tree *t, const struct task *task, struct replay_walk *w);
void replay_walk_release(struct replay_walk *w);

/* "ai", "human" or "unknown". */
const char *replay_picker_name(enum tree_picker p);

/* A re-judged step. */
struct replay_verdict {
	int ok;		       /* 1: scores and pick are set */
	int request_failed;    /* not ok because the judge's request failed */
	double *scores;	       /* owned; the step's count entries, or NULL */
	long pick;	       /* index into the step's candidates, or -1 */
	char *raw;	       /* owned; the judge's last answer, or NULL */
	char *error;	       /* owned; why not ok, or NULL */
	const char *rank_used; /* static: the mode that gave the scores */
	unsigned asks;
	double spearman; /* with the recorded scores; NAN when undefined */
};

struct replay_rejudge {
	struct replay_verdict *verdicts; /* owned; one per walk step */
	size_t count;
	size_t judged, failed;	      /* steps with / without a usable answer */
	size_t request_failed;	      /* of failed: the judge's request failed */
	size_t agree_judge, vs_judge; /* new pick == recorded judge pick, of */
	size_t agree_human, vs_human; /* new pick == a person's pick, of */
	size_t spearman_steps;	      /* steps where the correlation is defined */
	double spearman_mean;	      /* mean of those; NAN when none */
	long prompt_tokens, completion_tokens;
};

/*
 * Re-judges every step of w with at least one candidate: renders tmpl
 * (a judge prompt) with the document at the step's node, the candidates'
 * texts and what steering tells the judge of the path there (its
 * {balance}, {recent} and the notes of candidates that repeat a pair,
 * steerpairs.h, with task's pattern and labels; task may be NULL: the
 * seed's), asks the judge role with settings s (rank mode, judge
 * temperature, attempts) concurrently on e, and waits for all (lm_run).
 * Fills out (released with replay_rejudge_release) and the agreement
 * figures: with the recorded judge over steps where both picks are known,
 * with the person over steps a person picked, and Spearman's rank
 * correlation (average ranks for ties) per step where both score lists vary,
 * averaged.  Returns 0, or -1 with err when the engine fails (out holds
 * what finished); or REPLAY_PROMPT_TOO_LARGE, before anything is sent,
 * when a step's judge prompt would be larger than TASK_PROMPT_MAX ("step K:
 * the rendered judge prompt is N bytes, ..."; nothing is judged).
 */
enum { REPLAY_PROMPT_TOO_LARGE = -2 };
int replay_rejudge(struct lm_engine *e, const struct tree *t, const struct replay_walk *w,
		   const struct task *task, const struct config_role *judge, const char *tmpl,
		   const struct steer_settings *s, struct replay_rejudge *out, struct errbuf *err);
void replay_rejudge_release(struct replay_rejudge *r);

/* Spearman's rank correlation of a and b (n entries, average ranks for
 * ties); NAN when n < 2 or either has no variation. */
double replay_spearman(const double *a, const double *b, size_t n);

/*
 * Stores the re-judged scores beside the recorded ones: for each judged
 * step, the key "rejudge" in the step record's extra keys becomes
 * {"model": M, "prompt": P, "rank": R, "scores": [...], "pick": ID,
 * "candidates": [ID, ...]} (R the mode that gave the scores; or
 * {"model", "prompt", "error"} for a step without a usable answer),
 * replacing an earlier "rejudge" only.  A step without a record gets one
 * listing its candidates (no scores, no picks).  Recorded scores and picks
 * are not touched.
 */
void replay_rejudge_store(struct tree *t, const struct replay_walk *w,
			  const struct replay_rejudge *r, const char *model, const char *prompt);

#endif

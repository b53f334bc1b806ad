#ifndef WEFT_SESSIONLOCK_H
#define WEFT_SESSIONLOCK_H
/*
 * One writer per session (src/io/sessionlock.c).  A process that may write
 * a session (the loom, weft generate, a save onto another session's file)
 * holds an advisory lock on it for as long as it may write: flock(2) on
 * FILE.lock beside the session, which holds the holder's pid as text.  A
 * second writer is refused with the holder's pid; a reader takes no lock.
 *
 * The lock belongs to the open file, so the kernel drops it when the
 * holder exits or is killed: a lock left by a dead process never blocks
 * (the pid in the file is only for messages).  A release removes FILE.lock
 * while still holding it; an acquire that finds it has locked a file
 * already removed tries again, so two writers never hold two different
 * lock files for one session.
 *
 * Locks are per open file: a process must not acquire the same session
 * twice (the second would be refused, naming its own pid).
 */
#include <sys/types.h>

#include "weft/errbuf.h"

/* Returned by session_lock_acquire when another process holds the lock. */
#define SESSION_LOCK_HELD (-2)

struct session_lock {
	int fd;		 /* the lock file, open and flock'ed; -1 when not held */
	char *lock_path; /* owned; NULL when not held */
};

#define SESSION_LOCK_INIT                                                                          \
	{                                                                                          \
		-1, NULL                                                                           \
	}
void session_lock_init(struct session_lock *l);

/*
 * Takes the writer's lock of the session at session_path (the file need not
 * exist yet).  Returns 0 when held; SESSION_LOCK_HELD when another process
 * holds it, with err "FILE is open for writing in another weft (pid N)" and
 * *holder set to that pid (0 when it cannot be read); -1 when the lock file
 * cannot be created or locked (a read-only folder: err says why).  holder
 * may be NULL.  Never waits.
 */
int session_lock_acquire(struct session_lock *l, const char *session_path, pid_t *holder,
			 struct errbuf *err);

/* Releases the lock (removing FILE.lock); a lock not held is left alone. */
void session_lock_release(struct session_lock *l);

/* Sets out to session_path + ".lock" (owned by the caller, free it). */
char *session_lock_path(const char *session_path);

#endif

/*
 * shim.h: libvdiclient internals shared by its files and unit tests.
 *
 * Pure parts (no I/O): shim_conf_load() (file reading only), the broker
 * reply parser, the error explanations, the gateway answer parser, the RDP
 * client's argument list. I/O parts: https.c (libcurl), devcert.c (the
 * device certificate), tunnel.c (TLS to the gateway), launch.c (private
 * directory, spawning the RDP client). The API on top (struct vdic) is in
 * the files vdic_int.h lists.
 */
#ifndef VDI_CLIENT_SHIM_H
#define VDI_CLIENT_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "vdiclient.h"
#include "vdierr.h"

#define SHIM_PATH_MAX    1024
#define SHIM_STR_MAX     256
#define SHIM_PROMPTS_MAX 8
#define SHIM_ANSWER_MAX  512
#define SHIM_TOKEN_MAX   8192
#define SHIM_MSG_MAX     512
#define SHIM_ARGV_MAX    40

struct vdic_config {
	char path[SHIM_PATH_MAX];
	char broker_url[SHIM_STR_MAX];
	char ca[SHIM_PATH_MAX];
	char cert[SHIM_PATH_MAX];      /* PEM certificate (+ chain) */
	char key[SHIM_PATH_MAX];       /* PEM key */
	char pkcs12[SHIM_PATH_MAX];    /* or PKCS#12 */
	char passphrase[SHIM_STR_MAX]; /* PKCS#12 passphrase (secret) */
	char user[SHIM_STR_MAX];
	char rdp_pin[SHIM_STR_MAX]; /* 64 lower-case hex digits */
	char rdp_command[SHIM_PATH_MAX];
	char rdp_size[32]; /* "1024x768" or "" */
	int rdp_fullscreen;
	char kbd_layout[64]; /* /kbd: value, "" for the default */
	int kbd_type, kbd_subtype, kbd_fn_keys; /* -1: not set */
	char title[SHIM_STR_MAX];
	char private_base[SHIM_PATH_MAX]; /* where the private dir is made;
					   * "": $XDG_RUNTIME_DIR, $TMPDIR,
					   * /tmp */
	int reconnect;                    /* enabled */
	unsigned int reconnect_initial_ms, reconnect_max_delay_ms;
	unsigned int reconnect_give_up; /* seconds */
	unsigned int connect_timeout;   /* seconds, broker and gateway */
	char log_level[16];
};

/* Reads path into cfg (zeroed first). Returns 0, or VDI_ERR_CONFIG with
 * "FILE:LINE: KEY: problem" lines in err. */
int shim_conf_load(const char *path, struct vdic_config *cfg, char *err,
    size_t errlen) VDI_WUR;

/* Normalises a SHA-256 fingerprint: 64 hex digits, optional ':' between
 * byte pairs, any case, optional "sha256:" prefix. Writes 64 lower-case hex
 * digits + NUL into out (>= 65 bytes). Returns 0 or VDI_ERR_INVALID_ARG. */
int shim_fingerprint_norm(const char *in, char *out, size_t outlen) VDI_WUR;

/* --- broker replies ------------------------------------------------------ */

enum shim_reply_state {
	SHIM_REPLY_ERROR = 0,
	SHIM_REPLY_PROMPT,
	SHIM_REPLY_OK,
	SHIM_REPLY_ENDED, /* logoff: {"state": "ended", "session": ID} */
};

struct shim_prompt {
	enum vdic_prompt_style style;
	char text[SHIM_STR_MAX];
};

struct shim_reply {
	enum shim_reply_state state;
	long http_status;
	char login_id[128];
	size_t nprompts;
	struct shim_prompt prompts[SHIM_PROMPTS_MAX];
	size_t nmessages;
	struct shim_prompt
	    messages[SHIM_PROMPTS_MAX]; /* style: 0 info, 1 error */
	char token[SHIM_TOKEN_MAX];     /* secret */
	char ticket[SHIM_STR_MAX];      /* secret */
	char gateway[SHIM_STR_MAX];
	char session[128];
	char desktop[128];
	char user[128];
	long reconnect_window;
	char error[64];
	char message[SHIM_MSG_MAX];
	long retry_after;
};

/* Parses a broker answer (JSON body of len bytes, HTTP status). Returns 0
 * with out filled (state ERROR for {"error":...} bodies and for non-2xx
 * statuses), or VDI_ERR_JSON / VDI_ERR_BAD_FORMAT for a body that is not a
 * broker answer (then out->error is "bad_reply"). out is cleared first;
 * wipe it with shim_reply_wipe(). */
int shim_reply_parse(const char *body, size_t len, long http_status,
    struct shim_reply *out) VDI_WUR;
void shim_reply_wipe(struct shim_reply *r);

/* What an error code from the broker or gateway means for the person:
 * returns the status class and writes an actionable sentence into msg. The
 * server's message (may be "") and retry_after complete it. */
int shim_explain(const char *code, const char *server_msg, long retry_after,
    char *msg, size_t msglen);

/* --- gateway ------------------------------------------------------------- */

/* Parses the head of the gateway's answer to the Upgrade request: returns
 * 0 with *status and *head_len (bytes up to and including the blank line)
 * when the head is complete, VDI_ERR_NEED_MORE while not, VDI_ERR_BAD_FORMAT
 * for something that is not an HTTP/1.1 status line. */
int shim_upgrade_response(
    const char *buf, size_t len, int *status, size_t *head_len) VDI_WUR;

/* Writes the Upgrade request for token into out. Returns its length, or a
 * negative code (VDI_ERR_TOO_LARGE). */
int shim_upgrade_request(
    const char *host, const char *token, char *out, size_t outlen);

/* --- RDP client --------------------------------------------------------------
 */

/* Builds the RDP client's argument list for a loopback port: argv (owned
 * strings, NULL-terminated, at most SHIM_ARGV_MAX entries). Free with
 * shim_argv_free(). Returns 0, VDI_ERR_ALLOC or VDI_ERR_INVALID_ARG. */
int shim_rdp_argv(const struct vdic_config *cfg, const char *user,
    unsigned int port, char ***argv) VDI_WUR;
void shim_argv_free(char **argv);

/* Builds the RDP client's environment: only what an X11 client needs
 * (DISPLAY, XAUTHORITY, locale, PATH...) from envp, with HOME and the XDG
 * directories and TMPDIR inside privdir. Free with shim_argv_free(). */
int shim_rdp_env(
    const char *const *envp, const char *privdir, char ***env) VDI_WUR;

/* --- I/O helpers (launch.c) --------------------------------------------------
 */

/* 1 when path is on a memory-backed file system (tmpfs, ramfs: statfs's
 * f_type, not the name), 0 on any other, -1 when it cannot be examined
 * (errno). *fstype (may be NULL) gets a short name of the file system. */
int shim_mem_backed(const char *path, const char **fstype);

/* Makes the private directory (mode 0700) in a memory-backed place only,
 * so nothing of the client's reaches a disk: cfg->private_base when set
 * (refused when it is not memory-backed), else $XDG_RUNTIME_DIR when it is
 * memory-backed, else /dev/shm when it is. Returns 0 with the path in out;
 * VDI_ERR_DENIED when no such place exists, VDI_ERR_SYSTEM when making it
 * failed (errno); on failure why (whylen bytes) says where and why. */
int shim_privdir_make(const struct vdic_config *cfg, char *out, size_t outlen,
    char *why, size_t whylen);

/* Removes the directory tree at path (no symlinks followed). */
void shim_privdir_remove(const char *path);

/* Forks and execs argv with env, in its own process group, core dumps off,
 * stdin /dev/null. Returns 0 and *pid, or VDI_ERR_SYSTEM. */
int shim_spawn(char *const *argv, char *const *env, pid_t *pid) VDI_WUR;

/* 1 when the TCP connection accepted as fd (local end on 127.0.0.1) belongs
 * to process pid: the peer's socket inode is among pid's descriptors. */
int shim_peer_is_pid(int fd, pid_t pid);

#endif

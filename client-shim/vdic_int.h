/*
 * vdic_int.h: struct vdic and what the files of libvdiclient's API share
 * (not installed; the API is vdiclient.h):
 *
 *   client.c     the API object: configuration, callbacks, cancel
 *   auth.c       the login loop, reconnect, logoff (broker over https.c)
 *   loop.c       vdic_connect(): the session loop and its reconnects
 *   rdpclient.c  the RDP client process (pieces in launch.c)
 *   loopback.c   the loopback listener the RDP client connects to
 *   splice.c     bytes between the RDP client and the tunnel (tunnel.c)
 */
#ifndef VDI_CLIENT_VDIC_INT_H
#define VDI_CLIENT_VDIC_INT_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "shim_io.h"

struct vdic {
	const struct vdic_config *cfg;
	struct shim_device dev;
	int have_dev;
	void *curl;
	vdic_prompt_cb prompt;
	void *prompt_arg;
	vdic_event_cb event;
	void *event_arg;
	int logoff;
	int cancel[2]; /* self-pipe: vdic_cancel() writes */
	volatile sig_atomic_t cancelled;
	char msg[1024];
	/* from the broker's last grant */
	int logged_in;
	char user[128];
	char session[128];
	char desktop[128];
	char gateway[SHIM_STR_MAX];
	char token[SHIM_TOKEN_MAX]; /* secret, one use */
	char ticket[SHIM_STR_MAX];  /* secret */
	long reconnect_window;
	/* session loop */
	char privdir[SHIM_PATH_MAX];
	pid_t child;
	int pidfd;
};

/* client.c */
long shim_now_ms(void); /* monotonic */
/* Calls the event callback, if any. */
void shim_emit(struct vdic *c, enum vdic_event_type type, const char *text,
    unsigned int attempt, long elapsed);
/* Wipes the token and the ticket of the last grant. */
void shim_wipe_grant(struct vdic *c);
/* Loads the device certificate once (c->dev); VDIC_OK or a status with
 * c->msg set. */
int shim_ensure_device(struct vdic *c);

/* rdpclient.c */
/* Makes the client's private home once per vdic_connect(): only in
 * memory. VDIC_OK or a status with c->msg set. */
int shim_rdp_privdir(struct vdic *c);
/* Starts the RDP client for the loopback port (c->child, c->pidfd). */
int shim_rdp_launch(struct vdic *c, unsigned int port);
/* Reaps the client; with terminate, asks it to go first. Returns its exit
 * status (0 when ended by SIGTERM, SIGINT or SIGHUP; 128 + signal for
 * other signals), -1 when none ran. */
int shim_rdp_reap(struct vdic *c, int terminate);

/* Why a tunnel's splice ended. */
enum shim_end {
	END_CLIENT, /* the client closed its connection or exited */
	END_DROP,   /* the tunnel dropped */
	END_CANCEL, /* vdic_cancel() */
};

/* loopback.c */
/* A listening TCP socket on 127.0.0.1, port chosen by the kernel (*port);
 * -1 on failure (errno). */
int shim_listen_loopback(unsigned int *port);
/* Waits for the launched client's connection; only its own is accepted,
 * once. Returns the fd, or -1 with *why set (END_*). */
int shim_accept_client(
    struct vdic *c, int lfd, struct shim_tunnel *t, enum shim_end *why);

/* splice.c */
/* Writes all of p to a non-blocking fd; 0 or -1. */
int shim_put_fd(int fd, const unsigned char *p, size_t n);
/* Relays between the client's connection cfd and the tunnel until one
 * ends; *down counts the bytes from the tunnel. */
enum shim_end shim_splice(
    struct vdic *c, int cfd, struct shim_tunnel *t, size_t *down);

#endif

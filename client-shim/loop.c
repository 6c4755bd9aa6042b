/* loop.c: the session loop of vdic_connect(): the tunnel, the loopback
 * listener, the RDP client, the splice, and after a drop the reconnect
 * with its back-off (vdiclient.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "vdic_int.h"
#include "vlog.h"

/* Sleeps ms unless cancelled; 0 or -1 (cancelled). */
static int
nap(struct vdic *c, long ms)
{
	struct pollfd p = { c->cancel[0], POLLIN, 0 };

	if (ms <= 0)
		return c->cancelled ? -1 : 0;
	while (poll(&p, 1, (int)ms) < 0 && errno == EINTR)
		;
	return p.revents || c->cancelled ? -1 : 0;
}

/* Back-off against tunnels that keep ending soon after they came up (a
 * path that breaks every new connection, a desktop that drops each
 * client): the wait before reconnecting grows while they do. */
#define FLAP_LASTED_MS 10000 /* a tunnel that lived this long resets it */
#define FLAP_FIRST_MS  500   /* the wait after the second short tunnel */
#define FLAP_MAX_MS    30000

/* The wait (ms) before reconnecting after the flaps-th tunnel in a row
 * that ended within FLAP_LASTED_MS of coming up: none after the first
 * (a single drop is a network change: come back at once), then 0.5 s,
 * 1 s, 2 s ... up to FLAP_MAX_MS and, with a reconnect window, half of
 * it; each with +-20 % jitter so that programs cut together do not come
 * back together. */
static long
flap_wait(const struct vdic *c, unsigned int flaps)
{
	long w = FLAP_FIRST_MS, cap = FLAP_MAX_MS;
	unsigned int i;

	if (flaps < 2)
		return 0;
	for (i = 2; i < flaps && w < cap; i++)
		w *= 2;
	if (c->reconnect_window > 0 && c->reconnect_window * 500 < cap)
		cap = c->reconnect_window * 500;
	if (w > cap)
		w = cap;
	return w * (80 + (long)arc4random_uniform(41)) / 100;
}

/* After a drop: ticket at the broker, tunnel again, with backoff.
 * *attempt counts the tries since the last tunnel that lasted; wait is
 * flap_wait()'s pause before the first try; lasted how long the tunnel
 * that dropped had been up. */
static int
resume(struct vdic *c, struct shim_tunnel *t, long t_drop, long lasted,
    long wait, unsigned int *attempt)
{
	long give_up = (long)c->cfg->reconnect_give_up * 1000;
	long delay = c->cfg->reconnect_initial_ms, t_try;
	char text[1200];
	int st;

	if (c->reconnect_window > 0 && c->reconnect_window * 1000 < give_up)
		give_up = c->reconnect_window * 1000;
	if (wait > 0) {
		vdi_seterr(text, sizeof(text),
		    "Connection lost again %ld.%ld s after reconnecting; next "
		    "try in %ld.%ld s (attempt %u).",
		    lasted / 1000, lasted % 1000 / 100, wait / 1000,
		    wait % 1000 / 100, *attempt + 1);
		vlog(VLOG_NOTICE, "reconnect_backoff",
		    "session=%s lasted_ms=%ld wait_ms=%ld attempt=%u",
		    c->session, lasted, wait, *attempt + 1);
		shim_emit(c, VDIC_EV_RECONNECTING, text, *attempt + 1,
		    shim_now_ms() - t_drop);
		if (nap(c, wait) != 0)
			return VDIC_ERR_CANCELLED;
	}
	/* The back-off pause is not part of the time allowed to get back. */
	t_try = shim_now_ms();
	for (;;) {
		++*attempt;
		vdi_seterr(text, sizeof(text),
		    "Connection lost; reconnecting (attempt %u).", *attempt);
		shim_emit(c, VDIC_EV_RECONNECTING, text, *attempt,
		    shim_now_ms() - t_drop);
		st = vdic_reconnect(c);
		if (st == VDIC_OK) {
			st = shim_tunnel_open(&c->dev, c->gateway, c->token,
			    c->cfg->connect_timeout, c->cancel[0], t, c->msg,
			    sizeof(c->msg));
			OPENSSL_cleanse(c->token, sizeof(c->token));
			if (st == VDIC_OK)
				return VDIC_OK;
		}
		if (st == VDIC_ERR_CANCELLED || c->cancelled)
			return VDIC_ERR_CANCELLED;
		if (st == VDIC_ERR_TIME_LIMIT) {
			/* Not a failure to reconnect: the session is over. */
			shim_emit(c, VDIC_EV_ENDED, c->msg, *attempt,
			    shim_now_ms() - t_drop);
			return st;
		}
		vlog(VLOG_NOTICE, "reconnect_failed", "attempt=%u status=%d",
		    *attempt, st);
		if (st == VDIC_ERR_REPLACED) {
			/* Newest wins: the other program keeps the session;
			 * this one stops (its ticket is void). */
			shim_emit(c, VDIC_EV_GAVE_UP, c->msg, *attempt,
			    shim_now_ms() - t_drop);
			return st;
		}
		if (st == VDIC_ERR_DEVICE) {
			/* Revoked (or its certificate refused): retrying
			 * cannot help, and "start again" would be wrong. */
			vdi_seterr(text, sizeof(text),
			    "The connection to your desktop was lost and "
			    "cannot be restored from this tablet: %s",
			    c->msg);
			vdi_seterr(c->msg, sizeof(c->msg), "%s", text);
			shim_emit(c, VDIC_EV_GAVE_UP, c->msg, *attempt,
			    shim_now_ms() - t_drop);
			return st;
		}
		/* Only network-ish failures are worth another try. */
		if (st != VDIC_ERR_BROKER && st != VDIC_ERR_GATEWAY &&
		    !(st == VDIC_ERR_NO_DESKTOP &&
			strstr(c->msg, "cannot be reached") != NULL))
			break;
		if (shim_now_ms() - t_try + delay > give_up)
			break;
		if (nap(c, delay) != 0)
			return VDIC_ERR_CANCELLED;
		delay = delay < 50 ? 50 : delay * 2;
		if (delay > (long)c->cfg->reconnect_max_delay_ms)
			delay = c->cfg->reconnect_max_delay_ms;
	}
	vdi_seterr(text, sizeof(text),
	    "The connection to your desktop was lost and could not be "
	    "restored after %u attempts in %ld s. Last problem: %s Your "
	    "desktop keeps running for a while: start the connection again "
	    "to return to it.",
	    *attempt, (shim_now_ms() - t_drop + 999) / 1000, c->msg);
	vdi_seterr(c->msg, sizeof(c->msg), "%s", text);
	shim_emit(c, VDIC_EV_GAVE_UP, c->msg, *attempt, shim_now_ms() - t_drop);
	return VDIC_ERR_GAVE_UP;
}

int
vdic_connect(struct vdic *c)
{
	struct shim_tunnel t;
	long t_drop = -1, t_up = 0, lasted;
	int st, lfd = -1, cfd = -1, code;
	unsigned int port, flaps = 0, attempt = 0;
	enum shim_end why;
	size_t down;
	char text[128];

	memset(&t, 0, sizeof(t));
	t.fd = -1;
	if (!c->logged_in || c->token[0] == '\0') {
		vdi_seterr(c->msg, sizeof(c->msg), "Not logged in.");
		return VDIC_ERR_CONFIG;
	}
	if ((st = shim_ensure_device(c)) != VDIC_OK)
		return st;
	/* Where the client may write, before anything is spent. */
	if ((st = shim_rdp_privdir(c)) != VDIC_OK)
		goto out;
	st = shim_tunnel_open(&c->dev, c->gateway, c->token,
	    c->cfg->connect_timeout, c->cancel[0], &t, c->msg, sizeof(c->msg));
	OPENSSL_cleanse(c->token, sizeof(c->token));
	if (st != VDIC_OK)
		goto out;
	t_up = shim_now_ms();
	for (;;) {
		if ((lfd = shim_listen_loopback(&port)) < 0) {
			vdi_seterr(c->msg, sizeof(c->msg),
			    "Cannot listen on the loopback interface (%s).",
			    strerror(errno));
			st = VDIC_ERR_INTERNAL;
			goto out;
		}
		if ((st = shim_rdp_launch(c, port)) != VDIC_OK)
			goto out;
		cfd = shim_accept_client(c, lfd, &t, &why);
		close(lfd);
		lfd = -1;
		down = 0;
		if (cfd >= 0) {
			if (t.nearly > 0 &&
			    shim_put_fd(cfd, t.early, t.nearly) != 0)
				why = END_CLIENT;
			else {
				if (t_drop >= 0) {
					long el = shim_now_ms() - t_drop;

					vdi_seterr(text, sizeof(text),
					    "Reconnected to %s in %ld ms.",
					    c->desktop, el);
					vlog(VLOG_NOTICE, "reconnected",
					    "session=%s elapsed_ms=%ld",
					    VLOG_Q(c->session), el);
					shim_emit(c, VDIC_EV_RECONNECTED, text,
					    0, el);
				} else {
					shim_emit(c, VDIC_EV_CONNECTED,
					    c->desktop, 0, 0);
				}
				why = shim_splice(c, cfd, &t, &down);
			}
			close(cfd);
			cfd = -1;
		}
		if (why == END_CANCEL) {
			shim_tunnel_close(&t, 1);
			(void)shim_rdp_reap(c, 1);
			shim_emit(c, VDIC_EV_ENDED, "Disconnected.", 0, 0);
			st = VDIC_OK;
			goto out;
		}
		if (why == END_CLIENT) {
			shim_tunnel_close(&t, 1);
			code = shim_rdp_reap(c, 0);
			vlog(VLOG_INFO, "client_exited", "status=%d bytes=%zu",
			    code, down);
			if (code >= 128 || code == -1 ||
			    (code != 0 && down == 0)) {
				vdi_seterr(c->msg, sizeof(c->msg),
				    "The desktop client stopped with an error "
				    "(exit status %d) before or during the "
				    "session. If it repeats, call the help "
				    "desk.",
				    code);
				st = VDIC_ERR_CLIENT;
				goto out;
			}
			shim_emit(c, VDIC_EV_ENDED,
			    "The desktop window was closed.", 0, 0);
			st = VDIC_OK;
			goto out;
		}
		/* END_DROP. Whether another login took the session is the
		 * broker's to say (the ticket is refused as "replaced");
		 * here only count tunnels that keep ending soon after they
		 * came up, to back off. */
		t_drop = shim_now_ms();
		lasted = t_drop - t_up;
		if (lasted < FLAP_LASTED_MS) {
			flaps++;
		} else {
			flaps = 1;
			attempt = 0;
		}
		shim_tunnel_close(&t, 0);
		(void)shim_rdp_reap(c, 1);
		vlog(VLOG_NOTICE, "tunnel_dropped", "session=%s",
		    VLOG_Q(c->session));
		shim_emit(c, VDIC_EV_DROPPED,
		    "The connection to the desktop was lost.", 0, 0);
		if (!c->cfg->reconnect) {
			vdi_seterr(c->msg, sizeof(c->msg),
			    "The connection to your desktop was lost "
			    "(automatic reconnection is off). Start the "
			    "connection again to return to your desktop.");
			st = VDIC_ERR_GAVE_UP;
			goto out;
		}
		if ((st = resume(c, &t, t_drop, lasted, flap_wait(c, flaps),
			 &attempt)) != VDIC_OK) {
			if (st == VDIC_ERR_CANCELLED)
				st = VDIC_OK;
			goto out;
		}
		t_up = shim_now_ms();
	}
out:
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	shim_tunnel_close(&t, 0);
	(void)shim_rdp_reap(c, 1);
	if (c->privdir[0] != '\0') {
		shim_privdir_remove(c->privdir);
		c->privdir[0] = '\0';
	}
	if (c->logoff && (st == VDIC_OK)) {
		char keep[sizeof(c->msg)];

		vdi_seterr(keep, sizeof(keep), "%s", c->msg);
		if (vdic_logoff(c) == VDIC_OK)
			shim_emit(c, VDIC_EV_INFO,
			    "Desktop session ended (logoff).", 0, 0);
		else
			shim_emit(c, VDIC_EV_ERROR, c->msg, 0, 0);
		vdi_seterr(c->msg, sizeof(c->msg), "%s", keep);
	}
	return st;
}

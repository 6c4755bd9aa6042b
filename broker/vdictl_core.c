/*
 * vdictl_core.c: what vdictl's commands share: the admin socket (one JSON
 * request, one JSON reply), reading fields of the reply, thumbprint
 * arguments and the check of the options a command takes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "vdictl.h"

#define REPLY_MAX (64u * 1024u * 1024u)

json_t *
vctl_call(const char *path, json_t *req)
{
	struct sockaddr_un sun;
	char *text, *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	json_t *rep;
	json_error_t je;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vdictl: socket path too long\n");
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr,
		    "vdictl: cannot reach vdi-brokerd at %s: %s\n"
		    "  (is it running? is this its admin_socket? are you root "
		    "or in its admin_group?)\n",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	text = json_dumps(req, JSON_COMPACT);
	if (text == NULL || write(fd, text, strlen(text)) < 0 ||
	    write(fd, "\n", 1) != 1) {
		fprintf(stderr, "vdictl: write: %s\n", strerror(errno));
		free(text);
		close(fd);
		return NULL;
	}
	free(text);
	for (;;) {
		if (len + 4096 > cap) {
			char *nb;

			if (cap >= REPLY_MAX ||
			    (nb = realloc(buf, cap + 65536)) == NULL) {
				free(buf);
				close(fd);
				fprintf(stderr, "vdictl: reply too large\n");
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rep = json_loadb(buf ? buf : "", len, 0, &je);
	free(buf);
	if (rep == NULL)
		fprintf(stderr, "vdictl: the broker sent no valid reply\n");
	return rep;
}

const char *
vctl_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

const char *
vctl_when(json_t *o, const char *k, char *buf, size_t len)
{
	time_t t = (time_t)json_integer_value(json_object_get(o, k));
	struct tm tm;

	if (t == 0)
		return "-";
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* A thumbprint or the start of one, as the broker takes it: lower-case
 * hex; colons (as openssl prints it) are dropped and upper case folded. */
int
vctl_thumb_arg(const char *what, const char *in, char out[STORE_THUMB_MAX])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (n + 1 >= STORE_THUMB_MAX ||
		    strchr("0123456789abcdefABCDEF", *in) == NULL) {
			fprintf(stderr,
			    "vdictl: %s: expected the device certificate's "
			    "SHA-256 thumbprint, or its first digits, in hex "
			    "(vdictl devices list)\n",
			    what);
			return -1;
		}
		out[n++] = (char)(*in >= 'A' && *in <= 'F' ? *in + 32 : *in);
	}
	out[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "vdictl: %s: empty thumbprint\n", what);
		return -1;
	}
	return 0;
}

static const char *const opt_names[] = { "--all", "--reason", "--tenant",
	"--user", "--device", "--since", "--limit", "--file" };

/* Refuses the options given that the command does not take. */
int
vctl_check_opts(const char *cmd, unsigned int given, unsigned int takes)
{
	size_t i;

	for (i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]); i++)
		if ((given & ~takes) & (1u << i)) {
			fprintf(stderr, "vdictl: %s does not take %s\n", cmd,
			    opt_names[i]);
			return -1;
		}
	return 0;
}

enum vctl_match
vctl_done(int *rc, int status)
{
	*rc = status;
	return VCTL_DONE;
}

/*
 * freeport: prints free TCP ports on 127.0.0.1, one a line, for tests that
 * start third-party servers which cannot bind port 0 themselves.
 *
 *   freeport [COUNT]      (COUNT 1..64, default 1)
 *
 * All sockets stay bound until every port is chosen, so the ports printed
 * are distinct. A port may still be taken by someone else before the
 * caller binds it: prefer daemons that bind port 0 and report their port.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 64

int
main(int argc, char **argv)
{
	int fds[MAX_PORTS];
	unsigned int ports[MAX_PORTS];
	struct sockaddr_in sin;
	socklen_t len;
	long count = 1;
	char *end;
	int i, rc = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: freeport [COUNT]\n");
		return 2;
	}
	if (argc == 2) {
		count = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || count < 1 ||
		    count > MAX_PORTS) {
			fprintf(stderr, "freeport: COUNT must be 1..%d\n",
			    MAX_PORTS);
			return 2;
		}
	}
	for (i = 0; i < count; i++)
		fds[i] = -1;
	for (i = 0; i < count; i++) {
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
			perror("freeport: socket");
			rc = 1;
			goto out;
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = 0;
		len = sizeof(sin);
		if (bind(fds[i], (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sin, &len) != 0) {
			perror("freeport: bind 127.0.0.1:0");
			rc = 1;
			goto out;
		}
		ports[i] = ntohs(sin.sin_port);
	}
	for (i = 0; i < count; i++)
		printf("%u\n", ports[i]);
out:
	for (i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

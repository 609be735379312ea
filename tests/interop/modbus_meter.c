/* SPDX-License-Identifier: MIT */
/*
 * A simulated grid meter for the tests: a Modbus TCP server (libmodbus's
 * own modbus_tcp_listen / modbus_reply) on 127.0.0.1, on the port given
 * (0: a free one), serving 200 input and 200 holding registers that the
 * test drives line by line on stdin:
 *   f32 <addr> <value>   a float32 at addr, addr+1, high word first
 *   u16 <addr> <value>   one raw register (garbage, NaN words, ints)
 *   mute / unmute        read requests but answer none (a meter that hangs)
 * It prints "port N" once listening; stdin closing ends it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modbus.h>

#define N_REGS 200
#define MAX_CLIENTS 16

static void set_reg(modbus_mapping_t *map, int addr, uint16_t v)
{
	if (addr < 0 || addr >= N_REGS)
		return;
	map->tab_registers[addr] = v;
	map->tab_input_registers[addr] = v;
}

static void command(modbus_mapping_t *map, char *line, int *mute)
{
	int addr;
	double v;
	float f;
	uint32_t u;

	if (sscanf(line, "f32 %d %lf", &addr, &v) == 2) {
		f = (float)v;
		memcpy(&u, &f, sizeof(u));
		set_reg(map, addr, (uint16_t)(u >> 16));
		set_reg(map, addr + 1, (uint16_t)u);
	} else if (sscanf(line, "u16 %d %lf", &addr, &v) == 2) {
		set_reg(map, addr, (uint16_t)v);
	} else if (!strncmp(line, "unmute", 6)) {
		*mute = 0;
	} else if (!strncmp(line, "mute", 4)) {
		*mute = 1;
	}
}

int main(int argc, char **argv)
{
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", argc > 1 ? atoi(argv[1]) : 0);
	modbus_mapping_t *map = modbus_mapping_new(0, 0, N_REGS, N_REGS);
	uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
	int clients[MAX_CLIENTS], n_clients = 0, mute = 0, server;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char line[256];
	size_t used = 0;

	if (!ctx || !map)
		return 1;
	server = modbus_tcp_listen(ctx, MAX_CLIENTS);
	if (server < 0 || getsockname(server, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, "modbus_meter: listen: %s\n", modbus_strerror(errno));
		return 1;
	}
	printf("port %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		fd_set rd;
		int top = server > 0 ? server : 0;

		FD_ZERO(&rd);
		FD_SET(0, &rd);
		FD_SET(server, &rd);
		for (int i = 0; i < n_clients; i++) {
			FD_SET(clients[i], &rd);
			if (clients[i] > top)
				top = clients[i];
		}
		if (select(top + 1, &rd, NULL, NULL, NULL) < 0)
			return 1;
		if (FD_ISSET(0, &rd)) {
			ssize_t n = read(0, line + used, sizeof(line) - 1 - used);
			char *nl;
			if (n <= 0)
				break;
			used += (size_t)n;
			line[used] = '\0';
			while ((nl = strchr(line, '\n'))) {
				*nl = '\0';
				command(map, line, &mute);
				used -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, used + 1);
			}
			if (used == sizeof(line) - 1)
				used = 0;
		}
		if (FD_ISSET(server, &rd)) {
			int fd = accept(server, NULL, NULL);
			if (fd >= 0 && n_clients < MAX_CLIENTS)
				clients[n_clients++] = fd;
			else if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < n_clients; i++) {
			int rc;
			if (!FD_ISSET(clients[i], &rd))
				continue;
			modbus_set_socket(ctx, clients[i]);
			rc = modbus_receive(ctx, query);
			if (rc > 0 && !mute)
				modbus_reply(ctx, query, rc, map);
			if (rc < 0) {
				close(clients[i]);
				clients[i--] = clients[--n_clients];
			}
		}
	}
	for (int i = 0; i < n_clients; i++)
		close(clients[i]);
	close(server);
	modbus_mapping_free(map);
	modbus_free(ctx);
	return 0;
}

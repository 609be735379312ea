/* SPDX-License-Identifier: MIT */
/*
 * The FTP server for chargers that upload logs only by FTP: a child process
 * (ocppgw-ftpd, on Debian's python3-pyftpdlib) the gateway starts, talks to
 * over its standard streams and starts again when it dies. The loop never
 * waits on it. See ocppgw-ftpd.py for the line protocol.
 */
#ifndef OGW_FILES_FTPD_H
#define OGW_FILES_FTPD_H

#include <stdint.h>

struct ogw_ftpd;

struct ogw_ftpd_conf {
	const char *server;       /* the program */
	const char *addr;
	int port;
	const char *root;         /* where uploads land: root/<token>/<name> */
	int pasv_first, pasv_last; /* 0: any */
	const char *masquerade;   /* NULL: none */
	int idle_timeout_s;
};

/* What the server reports; @arg is ogw_ftpd_start()'s. */
struct ogw_ftpd_ops {
	void (*begin)(void *arg, const char *token, const char *name);
	/* @path: the complete file, the receiver's to move or remove */
	void (*done)(void *arg, const char *token, const char *name, uint64_t size,
		     const char *path);
	void (*failed)(void *arg, const char *token, const char *name, const char *why);
	/* The server (again) ready: what is expected must be allowed again, what
	 * was arriving through the last one is lost. */
	void (*ready)(void *arg);
};

/* 0, or a negative errno (the program cannot be run). */
int ogw_ftpd_start(const struct ogw_ftpd_conf *conf, const struct ogw_ftpd_ops *ops,
		   void *arg, struct ogw_ftpd **ret);
/* Expect one file in root/<token>/, at most @cap bytes; deny: no longer. */
void ogw_ftpd_allow(struct ogw_ftpd *d, const char *token, uint64_t cap);
void ogw_ftpd_deny(struct ogw_ftpd *d, const char *token);
/* The port it listens on, 0 until it is ready. */
int ogw_ftpd_port(const struct ogw_ftpd *d);
/* Ends the child; the memory goes with the last handle's close. */
void ogw_ftpd_stop(struct ogw_ftpd *d);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The ocppgw subcommands that live in files of their own; main.c
 * dispatches to them with argv starting at the subcommand's name.
 */
#ifndef OCPPGW_COMMANDS_H
#define OCPPGW_COMMANDS_H

/* `ocppgw sessions`: 0, 1 on a store error, 2 on bad usage. */
int ogw_cmd_sessions(int argc, char **argv);

#endif

#!/bin/sh
# SPDX-License-Identifier: MIT
# The image's entrypoint: the first argument picks the program, so that
# `docker run ocppgw passwd` works like `ocppgw passwd` on a host.
#   (nothing) or -flags      the gateway, with /etc/ocppgw/ocppgw.conf unless
#                            the flags name another file (-c/--config)
#   bridge|sessions [...]    ocppgw bridge / sessions, same default config
#   passwd|validate [...]    ocppgw passwd / validate
#   sim [...]                ocppgw-sim (fleet simulator, responder CSMS)
#   anything else            run as given (ocppgw --version, sh, ...)
set -eu

# The store is private: the data directory is 0700 (made so in the image),
# and SQLite creates its files with the umask's mode, 0600 with this one.
umask 077

conf=/etc/ocppgw/ocppgw.conf

# True when the arguments choose a config file themselves.
names_config() {
	for a in "$@"; do
		case $a in
		-c | -c?* | --config | --config=*) return 0 ;;
		esac
	done
	return 1
}

case ${1-} in
'' | -*)
	names_config "$@" || set -- -c "$conf" "$@"
	exec ocppgw "$@"
	;;
bridge | sessions)
	cmd=$1
	shift
	names_config "$@" || set -- -c "$conf" "$@"
	exec ocppgw "$cmd" "$@"
	;;
passwd | validate)
	exec ocppgw "$@"
	;;
sim)
	shift
	exec ocppgw-sim "$@"
	;;
*)
	exec "$@"
	;;
esac

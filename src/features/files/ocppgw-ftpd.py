#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The FTP server ocppgw starts for chargers that upload their logs only by
FTP (files.ftp_listen, docs/FILES.md "FTP uploads from chargers").

The protocol is pyftpdlib's (Debian's python3-pyftpdlib), not ours. This
script only decides who may write where, and tells the gateway what arrived.
It talks to the gateway over its standard streams, one line per message:

  gateway -> here   allow <token> <max_bytes>   a log upload is expected
                    deny <token>                 no longer
  here -> gateway   ready <port>
                    begin <token> <name>
                    done <token> <name> <bytes>
                    failed <token> <name> <bytes> <why>
                    log <debug|info|warning|error> <text>

A charger is given ftp://<host>:<port>/<token>/ and stores one file in that
directory, under any user name and password (chargers' FTP clients log in as
they like; the 128-bit token in the path is the secret, as in the file
server's HTTP paths). Nothing else is allowed: no listing, no directories, no
reading, no deleting, no file outside an expected token's directory. A file
over max_bytes is cut off with 426 and reported failed. At the end of its
standard input (the gateway gone) this process exits.
"""
import argparse
import errno
import logging
import os
import re
import shutil
import sys
import threading

try:
    from pyftpdlib.authorizers import AuthenticationFailed
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.servers import FTPServer
except ImportError as e:
    print('log error the FTP server needs python3-pyftpdlib (Debian: apt-get install '
          'python3-pyftpdlib): %s' % e, flush=True)
    sys.exit(2)

TOKEN = re.compile(r'^[0-9a-f]{32}$')
NAME = re.compile(r'^[A-Za-z0-9._-]{1,200}$')

out_lock = threading.Lock()


def say(*words):
    line = ' '.join(str(w).replace('\n', ' ') for w in words)
    with out_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


class Tokens:
    """The uploads the gateway expects: token -> byte cap. Changed by the
    stdin thread, read by the server's loop (dict operations are atomic)."""

    def __init__(self, root):
        self.root = root
        self.caps = {}
        self.busy = set()
        self.why = {}   # token -> why its transfer was cut here

    def allow(self, token, cap):
        os.makedirs(os.path.join(self.root, token), mode=0o700, exist_ok=True)
        self.caps[token] = cap

    def deny(self, token):
        self.caps.pop(token, None)
        self.why.pop(token, None)
        if token not in self.busy:
            shutil.rmtree(os.path.join(self.root, token), ignore_errors=True)

    def of(self, path):
        """The token whose directory holds path (a file directly in it)."""
        rel = os.path.relpath(path, self.root)
        parts = rel.split(os.sep)
        if len(parts) == 2 and TOKEN.match(parts[0]) and parts[0] in self.caps:
            return parts[0], parts[1]
        return None, None


class Authorizer:
    """Anyone may log in; what they may do depends on the path only."""

    def __init__(self, tokens):
        self.tokens = tokens

    def validate_authentication(self, username, password, handler):
        if not username:
            raise AuthenticationFailed('a user name is needed')

    def get_home_dir(self, username):
        return self.tokens.root

    def impersonate_user(self, username, password):
        pass

    def terminate_impersonation(self, username):
        pass

    def has_user(self, username):
        return True

    def has_perm(self, username, perm, path=None):
        if path is None:
            return False
        path = os.path.normpath(path)
        if perm == 'e':
            # into the root or an expected token's directory
            return path == self.tokens.root or (
                os.path.dirname(path) == self.tokens.root and
                os.path.basename(path) in self.tokens.caps)
        if perm == 'w':
            token, name = self.tokens.of(path)
            return token is not None and bool(NAME.match(name))
        return False

    def get_perms(self, username):
        return 'ew'

    def get_msg_login(self, username):
        return 'ocppgw: store your log in the directory you were given.'

    def get_msg_quit(self, username):
        return 'Goodbye.'


class CappedFile:
    """A file being received that refuses to grow past its cap."""

    def __init__(self, f, cap, on_over):
        self.f = f
        self.cap = cap
        self.on_over = on_over
        self.size = 0
        self.name = f.name
        self.closed = False

    def write(self, data):
        self.size += len(data)
        if self.size > self.cap:
            # pyftpdlib answers 426 without our words: they go to the gateway
            self.on_over('over the %d bytes allowed' % self.cap)
            raise OSError(errno.EFBIG, 'over the %d bytes allowed' % self.cap)
        return self.f.write(data)

    def close(self):
        self.closed = True
        self.f.close()

    def __getattr__(self, attr):
        return getattr(self.f, attr)


class Fs(AbstractedFS):
    tokens = None

    def open(self, filename, mode):
        # a whole new file only (RETR and APPE are refused by the permissions;
        # STOR after REST would open it 'r+')
        if mode != 'wb':
            raise OSError(errno.EACCES, 'only a whole file may be stored')
        token, name = self.tokens.of(filename)
        if token is None:
            raise OSError(errno.EACCES, 'not a directory for uploads')
        if token in self.tokens.busy:
            raise OSError(errno.EBUSY, 'a file for this request is being received')
        why = self.tokens.why
        f = CappedFile(open(filename, mode), self.tokens.caps[token],
                       lambda text: why.__setitem__(token, text))
        self.tokens.busy.add(token)
        say('begin', token, name)
        return f


class Handler(FTPHandler):
    tokens = None

    def _finished(self, path, ok):
        token, name = self.tokens.of(path)
        if token is None:
            # denied meanwhile: the gateway no longer wants it
            rel = os.path.relpath(path, self.tokens.root).split(os.sep)
            token = rel[0] if rel and TOKEN.match(rel[0]) else None
            if token:
                self.tokens.busy.discard(token)
            try:
                os.unlink(path)
            except OSError:
                pass
            return
        self.tokens.busy.discard(token)
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        if ok:
            say('done', token, name, size)
            return
        why = self.tokens.why.pop(token, None) or self.why or 'the transfer did not complete'
        try:
            os.unlink(path)
        except OSError:
            pass
        say('failed', token, name, size, why)

    def on_file_received(self, file):
        self.why = None
        self._finished(file, True)

    def on_incomplete_file_received(self, file):
        self._finished(file, False)

    def respond(self, resp, logfun=None):
        # the reason of a cut transfer (426 ...), for the gateway's log
        if resp.startswith(('421', '426', '451', '550', '552')):
            self.why = resp
        if logfun is None:
            return super().respond(resp)
        return super().respond(resp, logfun)


class ToGateway(logging.Handler):
    LEVELS = {logging.DEBUG: 'debug', logging.INFO: 'debug',
              logging.WARNING: 'warning', logging.ERROR: 'error', logging.CRITICAL: 'error'}

    def emit(self, record):
        say('log', self.LEVELS.get(record.levelno, 'info'), self.format(record))


def read_gateway(tokens):
    for line in sys.stdin:
        w = line.split()
        if len(w) == 3 and w[0] == 'allow' and TOKEN.match(w[1]) and w[2].isdigit():
            tokens.allow(w[1], int(w[2]))
        elif len(w) == 2 and w[0] == 'deny' and TOKEN.match(w[1]):
            tokens.deny(w[1])
        elif w:
            say('log', 'error', 'unknown instruction from the gateway: %r' % line.strip())
    # the gateway is gone: so are we
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--listen', required=True, help='address:port')
    ap.add_argument('--root', required=True, help='where uploads land (emptied at start)')
    ap.add_argument('--passive-ports', help='first-last')
    ap.add_argument('--masquerade', help='the address given in PASV replies')
    ap.add_argument('--max-connections', type=int, default=64)
    ap.add_argument('--idle-timeout', type=int, default=60)
    a = ap.parse_args()

    host, _, port = a.listen.rpartition(':')
    host = host.strip('[]')
    root = os.path.realpath(a.root)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root, mode=0o700, exist_ok=True)
    tokens = Tokens(root)

    log = logging.getLogger('pyftpdlib')
    log.setLevel(logging.INFO)
    log.addHandler(ToGateway())
    log.propagate = False

    Fs.tokens = tokens
    Handler.tokens = tokens
    Handler.authorizer = Authorizer(tokens)
    Handler.abstracted_fs = Fs
    Handler.why = None
    Handler.timeout = a.idle_timeout
    DTPHandler.timeout = a.idle_timeout    # a transfer without progress is cut
    Handler.banner = 'ocppgw log upload'
    Handler.permit_foreign_addresses = False
    if a.passive_ports:
        first, last = (int(p) for p in a.passive_ports.split('-'))
        Handler.passive_ports = list(range(first, last + 1))
    if a.masquerade:
        Handler.masquerade_address = a.masquerade
    server = FTPServer((host, int(port)), Handler)
    server.max_cons = a.max_connections
    server.max_cons_per_ip = a.max_connections
    threading.Thread(target=read_gateway, args=(tokens,), daemon=True).start()
    say('ready', server.socket.getsockname()[1])
    server.serve_forever(handle_exit=False)


if __name__ == '__main__':
    try:
        main()
    except OSError as e:
        say('log', 'error', 'the FTP server cannot start: %s' % e)
        sys.exit(1)

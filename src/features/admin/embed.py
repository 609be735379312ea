#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Turns a file into a C array (generated, do not edit the output):
#   embed.py INPUT OUTPUT SYMBOL
import sys

src, out, sym = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* Generated from %s by embed.py: do not edit. */\n' % src.split('/')[-1])
    f.write('#include <stddef.h>\n\n')
    f.write('const char %s[] = {\n' % sym)
    for i in range(0, len(data), 16):
        f.write('\t' + ' '.join('0x%02x,' % b for b in data[i:i + 16]) + '\n')
    f.write('\t0x00\n};\n')
    f.write('const size_t %s_len = %d;\n' % (sym, len(data)))

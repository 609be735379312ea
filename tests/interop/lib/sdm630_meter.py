# SPDX-License-Identifier: MIT
#
# A simulated Eastron SDM630 grid meter for the load-balancing fleet test:
# a real Modbus TCP server (Debian's python3-pymodbus) on 127.0.0.1 serving
# the phase currents as float32 input registers 30007/30009/30011
# (addresses 6, 8, 10, high word first), as the "sdm630" preset reads them.
# The test drives it over stdin, one command a line:
#   set L1 L2 L3   the phase currents in A
#   stop           stop listening and drop every connection (a silent meter)
#   start          listen again on the same port
# It prints "port N" once listening, and "ok <command>" after each command.
# With `--serial PATH` it is a Modbus RTU meter on that serial line (9600
# 8N1; a pty of a socat pair in the test) instead, printing "serial PATH";
# stop and start then do nothing.
import asyncio
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer
from pymodbus.transaction import ModbusRtuFramer

CURRENT_ADDR = (6, 8, 10)


def float_words(value):
    hi, lo = struct.unpack('>HH', struct.pack('>f', value))
    return [hi, lo]


async def main():
    inputs = ModbusSequentialDataBlock(0, [0] * 64)
    # zero_mode: address 6 on the wire is index 6 of the block
    context = ModbusServerContext(
        slaves=ModbusSlaveContext(ir=inputs, zero_mode=True), single=True)
    port = 0
    server = None

    async def start():
        nonlocal server, port
        server = ModbusTcpServer(context, address=('127.0.0.1', port),
                                 allow_reuse_address=True)
        task = asyncio.ensure_future(server.serve_forever())
        await server.serving
        port = server.server.sockets[0].getsockname()[1]
        return task

    if len(sys.argv) == 3 and sys.argv[1] == '--serial':
        rtu = ModbusSerialServer(context, framer=ModbusRtuFramer, port=sys.argv[2],
                                 baudrate=9600, bytesize=8, parity='N', stopbits=1)
        await rtu.start()
        print(f'serial {sys.argv[2]}', flush=True)
    else:
        await start()
        print(f'port {port}', flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        words = line.split()
        if not words:
            continue
        if words[0] == 'set' and len(words) == 4:
            for addr, amps in zip(CURRENT_ADDR, words[1:]):
                inputs.setValues(addr, float_words(float(amps)))
        elif words[0] == 'stop' and server:
            await server.server_close()
            server = None
        elif words[0] == 'start' and not server:
            await start()
        print(f'ok {words[0]}', flush=True)
    if server:
        await server.server_close()


asyncio.run(main())

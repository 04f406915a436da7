"""S16 with luma.oled, for the comparison in `./scripts/bench.sh s16`.

luma.oled drives the panel the way its README shows: `i2c(port=1, address=0x3C)`, `ssd1306(serial)`,
then for each update a `canvas` with `draw.text` in luma's default font (a clear is `device.clear()`).
No hardware: smbus2's `SMBus` is replaced, before luma opens it, by a bus that writes down every I2C
write as `w <address> <hex payload>`, after a line `init` (the device made, once) or `step <n>`.
`oled-bench`'s `s16` replays them into our virtual SSD1306 and counts them as it counts ours.

    python3 bench/luma/s16.py scenarios/s16.txt
"""

import sys
import textwrap

import smbus2


class RecordingBus:
    """What luma's managed I2C interface uses of smbus2.SMBus, writing instead of sending."""

    def __init__(self, port=None):
        self.port = port

    def write_i2c_block_data(self, address, register, data):
        emit(address, [register] + list(data))

    def i2c_rdwr(self, *messages):
        for m in messages:
            emit(m.addr, list(m))

    def close(self):
        pass


def emit(address, payload):
    sys.stdout.write("w %02x %s\n" % (address, bytes(payload).hex()))


smbus2.SMBus = RecordingBus

# Imported after the patch, as luma looks smbus2.SMBus up when the interface is made.
from luma.core.interface.serial import i2c  # noqa: E402
from luma.core.render import canvas  # noqa: E402
from luma.oled.device import ssd1306  # noqa: E402


def main(path):
    print("init")
    serial = i2c(port=1, address=0x3C)
    device = ssd1306(serial)
    step = 0
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("show:"):
                text = line[len("show:"):]
            elif line.strip() == "clear":
                text = None
            else:
                continue
            step += 1
            print("step %d" % step)
            if text is None:
                device.clear()
                continue
            # Wrapped to the width of the default font's characters (6 px), as a user would.
            with canvas(device) as draw:
                draw.multiline_text((0, 0), textwrap.fill(text, width=21), fill="white")
    # What luma sends when the program ends (its atexit cleanup) is not an update.
    print("exit")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: s16.py SCENARIO")
    main(sys.argv[1])

"""Builds the VM test's initramfs: a gzip'd cpio archive ("newc" format)
holding busybox, kernel modules with their dependencies, guest programs and
whatever files the caller adds. Python standard library only: no cpio,
depmod or modinfo needed on the host.

Module dependencies come from each module's own .modinfo section (its
"depends=" entry, which is what depmod reads too), because Debian's kernel
package does not ship modules.dep.
"""

import gzip
import io
import os
import stat
import struct


def _elf_section(path, wanted):
    """The bytes of one section of a 64-bit little-endian ELF file, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("%s: not a 64-bit little-endian ELF file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):
        # name, type, flags, addr, offset, size
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)

    names_off = header(shstrndx)[4]
    for i in range(shnum):
        name_idx, _, _, _, off, size = header(i)
        end = data.index(b"\0", names_off + name_idx)
        if data[names_off + name_idx:end].decode() == wanted:
            return data[off:off + size]
    return None


def module_depends(path):
    """The module names a .ko file depends on."""
    info = _elf_section(path, ".modinfo") or b""
    for entry in info.split(b"\0"):
        if entry.startswith(b"depends="):
            value = entry[len(b"depends="):].decode()
            return [d for d in value.split(",") if d]
    return []


def _module_index(modules_dir):
    """Module name (dashes as underscores) -> path of its .ko under kernel/."""
    index = {}
    for root, _, files in os.walk(os.path.join(modules_dir, "kernel")):
        for name in files:
            if name.endswith(".ko"):
                index[name[:-3].replace("-", "_")] = os.path.join(root, name)
    return index


def resolve_modules(modules_dir, wanted):
    """The .ko paths for `wanted` and everything they need, in load order
    (each module after its dependencies)."""
    index = _module_index(modules_dir)
    order, state = [], {}

    def visit(name, chain):
        name = name.replace("-", "_")
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ValueError("module dependency loop: " + " -> ".join(chain + [name]))
        if name not in index:
            raise ValueError("module %s not found under %s (needed by %s)" %
                             (name, modules_dir, " -> ".join(chain) or "the caller"))
        state[name] = "visiting"
        for dep in module_depends(index[name]):
            visit(dep, chain + [name])
        state[name] = "done"
        order.append(index[name])

    for name in wanted:
        visit(name, [])
    return order


class Cpio:
    """A cpio archive in the "newc" format the kernel unpacks."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        self.ino += 1
        self.out.write(hdr.encode() + name_b)
        self.out.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def mkdir(self, path):
        """Adds a directory and its parents (once each)."""
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        """Adds a regular file with these bytes."""
        path = path.strip("/")
        if "/" in path:
            self.mkdir(path.rsplit("/", 1)[0])
        self._entry(path, stat.S_IFREG | mode, data)

    def copy(self, path, src, mode=None):
        """Adds a file copied from the host (its mode unless given)."""
        with open(src, "rb") as f:
            data = f.read()
        if mode is None:
            mode = os.stat(src).st_mode & 0o777
        self.file(path, data, mode)

    def symlink(self, path, target):
        path = path.strip("/")
        if "/" in path:
            self.mkdir(path.rsplit("/", 1)[0])
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def node(self, path, mode, major, minor):
        """Adds a device node (the console, before devtmpfs is mounted)."""
        name_b = path.strip("/").encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, 1, 0, 0, 0, 0, major, minor, len(name_b), 0))
        self.ino += 1
        self.out.write(hdr.encode() + name_b)
        self.out.write(b"\0" * (-(110 + len(name_b)) % 4))

    def finish(self):
        """The archive's bytes, with its trailer."""
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def build(out_path, busybox, modules_dir, modules, init, files):
    """Writes the gzip'd archive to out_path. files: (path in the archive,
    host path or bytes, mode). Returns the module files loaded, in order."""
    cpio = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "etc", "lib/modules"):
        cpio.mkdir(d)
    cpio.node("dev/console", stat.S_IFCHR | 0o600, 5, 1)
    cpio.copy("bin/busybox", busybox, 0o755)
    cpio.symlink("bin/sh", "busybox")
    cpio.file("init", init.encode() if isinstance(init, str) else init, 0o755)
    kos = resolve_modules(modules_dir, modules)
    order = []
    for ko in kos:
        name = os.path.basename(ko)
        cpio.copy("lib/modules/" + name, ko, 0o644)
        order.append(name)
    cpio.file("etc/modules.order", ("\n".join(order) + "\n").encode())
    for path, src, mode in files:
        if isinstance(src, bytes):
            cpio.file(path, src, mode)
        else:
            cpio.copy(path, src, mode)
    data = cpio.finish()
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        # mtime 0: the same inputs give the same archive.
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=6, mtime=0) as gz:
            gz.write(data)
    os.replace(tmp, out_path)
    return order

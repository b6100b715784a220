// A read-only view of a whole file's bytes: mmap'd where the OS has it, read into memory
// elsewhere, or a caller's own buffer (loading from memory, as stb does).
//
// Weights are read through this view and packed once at load. A mapped file's pages count in the
// process's resident memory once touched, so the loader hands each tensor's bytes back with
// release() as soon as it has copied them: peak memory while loading is the packed weights plus
// about one tensor of the file, not the packed weights plus the whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <memory>
#include <string>
#include <vector>

#include "../error.hpp"
#include "file_open.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define MINIBERT_HAS_MMAP 1
#endif

namespace minibert {

class MappedFile {
public:
    MappedFile() = default;

    /// Maps `path` read-only, opened under the file policy (io/file_open.hpp: a regular file,
    /// no blocking on FIFOs, symlink loops and directories reported). Throws Error(io) naming
    /// the path when it cannot be opened, mapped or read.
    ///
    /// Contract: the file must not be truncated or rewritten in place while it is mapped (while
    /// a model loads; the mapping is dropped once the weights are packed). Touching a page past
    /// the new end of a truncated file raises SIGBUS, which no library can turn into an Error
    /// without owning the process's signal handlers. Callers who cannot promise that (files on
    /// a share another process rewrites) load with LoadOptions::read_file (read_into_memory()):
    /// the bytes are copied with read(2), and a file that shrinks meanwhile is an Error.
    static MappedFile open(const std::string& path) {
        MappedFile file;
        file.path_ = path;
        const OpenedFile opened = OpenedFile::open(path, UINT64_MAX);
        const std::size_t size = opened.size();
#ifdef MINIBERT_HAS_MMAP
        if (size > 0) {
            void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, opened.fd(), 0);
            if (addr == MAP_FAILED) throw Error(ErrorKind::io, "cannot mmap '" + path + "'");
            file.mapping_ = std::shared_ptr<void>(addr, [size](void* p) { ::munmap(p, size); });
            file.data_ = static_cast<const std::uint8_t*>(addr);
            file.mapped_ = true;
        }
        file.size_ = size;
#else
        auto bytes = std::make_shared<std::vector<std::uint8_t>>(size);
        opened.read_all(bytes->data(), size);
        file.data_ = bytes->data();
        file.size_ = size;
        file.mapping_ = std::move(bytes);
#endif
        return file;
    }

    /// Reads `path` into memory with read(2) instead of mapping it (same policy and errors as
    /// open()). Peak memory holds the whole file while loading; in exchange a file truncated or
    /// rewritten meanwhile gives an Error or the old bytes, never SIGBUS.
    static MappedFile read_into_memory(const std::string& path) {
        MappedFile file;
        file.path_ = path;
        const OpenedFile opened = OpenedFile::open(path, UINT64_MAX);
        auto bytes = std::make_shared<std::vector<std::uint8_t>>(opened.size());
        opened.read_all(bytes->data(), bytes->size());
        file.data_ = bytes->data();
        file.size_ = bytes->size();
        file.mapping_ = std::move(bytes);
        return file;
    }

    /// Wraps a caller's buffer without copying; `owner` keeps it alive (may be null when the
    /// caller guarantees the bytes outlive every object loaded from them).
    static MappedFile from_memory(const void* data, std::size_t size, std::string name = "<memory>",
                                  std::shared_ptr<const void> owner = nullptr) {
        MappedFile file;
        file.data_ = static_cast<const std::uint8_t*>(data);
        file.size_ = size;
        file.path_ = std::move(name);
        file.mapping_ = std::const_pointer_cast<void>(std::move(owner));
        return file;
    }

    const std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }

    /// Drops the resident pages of [p, p + n) when this file is mmap'd (a no-op for bytes read
    /// into memory or a caller's buffer). Only a hint: the bytes stay readable, since a private
    /// read-only file mapping refills a dropped page from the file on the next access. The
    /// range is widened to whole pages, which may drop a neighbour's pages too; that costs a
    /// re-read from the page cache, never a wrong byte.
    void release(const void* p, std::size_t n) const noexcept {
#ifdef MINIBERT_HAS_MMAP
        if (!mapped_ || n == 0) return;
        const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
        const auto lo = reinterpret_cast<std::uintptr_t>(data_);
        const auto hi = lo + size_;
        auto b = reinterpret_cast<std::uintptr_t>(p);
        auto e = b + n;
        if (b < lo || e > hi || b >= e) return;
        b &= ~(page - 1);              // data_ is page-aligned (mmap), and the mapping covers
        e = (e + page - 1) & ~(page - 1);  // whole pages, so both ends stay inside it
        ::madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
#else
        (void)p;
        (void)n;
#endif
    }

private:
    std::shared_ptr<void> mapping_;
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::string path_;
    bool mapped_ = false;  ///< data_ is this object's own mmap (release() may drop its pages)
};

/// True when `path` names an existing regular file.
inline bool file_exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

}  // namespace minibert

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
#include <fstream>
#include <iterator>
#include <system_error>
#include <memory>
#include <string>
#include <vector>

#include "../error.hpp"

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

    /// Maps `path` read-only. Throws Error(io) naming the path when it cannot be opened or read.
    static MappedFile open(const std::string& path) {
        MappedFile file;
        file.path_ = path;
#ifdef MINIBERT_HAS_MMAP
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw Error(ErrorKind::io, "cannot open '" + path + "'");
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            throw Error(ErrorKind::io, "'" + path + "' is not a regular file");
        }
        const auto size = static_cast<std::size_t>(st.st_size);
        if (size > 0) {
            void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (addr == MAP_FAILED) {
                ::close(fd);
                throw Error(ErrorKind::io, "cannot mmap '" + path + "'");
            }
            file.mapping_ = std::shared_ptr<void>(addr, [size](void* p) { ::munmap(p, size); });
            file.data_ = static_cast<const std::uint8_t*>(addr);
            file.mapped_ = true;
        }
        ::close(fd);
        file.size_ = size;
#else
        std::ifstream in(path, std::ios::binary | std::ios::ate);
        if (!in) throw Error(ErrorKind::io, "cannot open '" + path + "'");
        const auto size = static_cast<std::size_t>(in.tellg());
        auto bytes = std::make_shared<std::vector<std::uint8_t>>(size);
        in.seekg(0);
        if (size && !in.read(reinterpret_cast<char*>(bytes->data()), static_cast<std::streamsize>(size)))
            throw Error(ErrorKind::io, "cannot read '" + path + "'");
        file.data_ = bytes->data();
        file.size_ = size;
        file.mapping_ = std::move(bytes);
#endif
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

/// Reads a whole small text file (config.json, vocab.txt). Throws Error(io) naming the path.
inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "cannot open '" + path + "'");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw Error(ErrorKind::io, "cannot read '" + path + "'");
    return text;
}

/// True when `path` names an existing regular file.
inline bool file_exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

}  // namespace minibert

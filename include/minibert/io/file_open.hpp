// The one policy for opening a file the library reads (config.json, tokenizer files, vocab.txt,
// sentence-transformers files, model.safetensors).
//
// A path must name a regular file (after following symlinks) no larger than the reader's cap.
// Everything else is an Error(io) naming the path and what it is instead: a directory, a FIFO or
// socket, a device (a symlink to /dev/zero would otherwise read until bad_alloc), a symlink loop,
// a missing file. The file is opened with O_NONBLOCK so that opening a FIFO never waits for a
// writer, and its type is checked with fstat on the opened descriptor (no check-then-open race).
// Reads go through read(2) up to the size fstat reported plus one byte, so a file that grows while
// it is read is still capped and one that shrinks ends the read early (an Error, not a short text).
//
// std::filesystem's throwing calls are not used: they leak std::filesystem::filesystem_error (a
// symlink loop made is_directory() throw). path_entry_exists() tells "absent" from "present but
// unreadable" with lstat, so a broken tokenizer.json is reported instead of silently skipped.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "../error.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define MINIBERT_HAS_POSIX_FILES 1
#else
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#endif

namespace minibert {

/// Size caps of the readers. JSON and text files: the largest Hugging Face tokenizer.json files
/// are tens of MB; 256 MiB leaves a wide margin and still fails fast on a mistaken path.
constexpr std::uint64_t max_text_file_bytes = 256ull << 20;

namespace detail {

#ifdef MINIBERT_HAS_POSIX_FILES
/// "is a directory", "is a FIFO", ... for an fstat mode that is not a regular file.
inline const char* describe_file_type(mode_t mode) noexcept {
    if (S_ISDIR(mode)) return "is a directory";
    if (S_ISFIFO(mode)) return "is a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "is a character device";
    if (S_ISBLK(mode)) return "is a block device";
    if (S_ISSOCK(mode)) return "is a socket";
    return "is not a regular file";
}

inline std::string describe_open_errno(int err) {
    switch (err) {
        case ENOENT: return "does not exist";
        case ELOOP: return "is a symlink loop (or has too many levels of symlinks)";
        case EACCES: return "is not readable (permission denied)";
        case ENOTDIR: return "has a path component that is not a directory";
        case ENAMETOOLONG: return "is a path that is too long";
        default: return std::string("cannot be opened (") + std::strerror(err) + ")";
    }
}
#endif

}  // namespace detail

/// An open descriptor of a regular file, closed on destruction.
class OpenedFile {
public:
#ifdef MINIBERT_HAS_POSIX_FILES
    /// Opens `path` read-only under the policy above; `max_bytes` caps its size.
    static OpenedFile open(const std::string& path, std::uint64_t max_bytes) {
        OpenedFile f;
        f.path_ = path;
        int fd;
        do {
            fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0) throw Error(ErrorKind::io, "'" + path + "' " + detail::describe_open_errno(errno));
        f.fd_ = fd;
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw Error(ErrorKind::io, "cannot stat '" + path + "'");
        if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::io, "'" + path + "' " + detail::describe_file_type(st.st_mode));
        if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_bytes)
            throw Error(ErrorKind::limit, "'" + path + "' is " + std::to_string(static_cast<long long>(st.st_size)) +
                                              " bytes, over the " + std::to_string(max_bytes) + "-byte limit for this file");
        f.size_ = static_cast<std::size_t>(st.st_size);
        // A regular file never blocks; clearing O_NONBLOCK keeps read() semantics plain anyway.
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        return f;
    }

    OpenedFile(OpenedFile&& o) noexcept : fd_(o.fd_), size_(o.size_), path_(std::move(o.path_)) { o.fd_ = -1; }
    OpenedFile& operator=(OpenedFile&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = o.fd_;
            size_ = o.size_;
            path_ = std::move(o.path_);
            o.fd_ = -1;
        }
        return *this;
    }
    OpenedFile(const OpenedFile&) = delete;
    OpenedFile& operator=(const OpenedFile&) = delete;
    ~OpenedFile() { close(); }

    int fd() const noexcept { return fd_; }

    /// Reads the whole file (size() bytes) into `out`. Throws Error(io) when the file changed
    /// size while being read (shrank: a short read; grew: more bytes than fstat said).
    void read_all(void* out, std::size_t n) const {
        auto* p = static_cast<char*>(out);
        std::size_t done = 0;
        while (done < n) {
            const ::ssize_t got = ::read(fd_, p + done, n - done);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw Error(ErrorKind::io, "cannot read '" + path_ + "' (" + std::strerror(errno) + ")");
            if (got == 0)
                throw Error(ErrorKind::io, "'" + path_ + "' shrank while being read (" + std::to_string(done) + " of " +
                                               std::to_string(n) + " bytes)");
            done += static_cast<std::size_t>(got);
        }
        char extra;
        ::ssize_t more;
        do {
            more = ::read(fd_, &extra, 1);
        } while (more < 0 && errno == EINTR);
        if (more > 0) throw Error(ErrorKind::io, "'" + path_ + "' grew while being read");
    }
#else
    static OpenedFile open(const std::string& path, std::uint64_t max_bytes) {
        std::error_code ec;
        const auto st = std::filesystem::status(path, ec);
        if (ec || !std::filesystem::is_regular_file(st))
            throw Error(ErrorKind::io, "'" + path + "' is missing or not a regular file");
        const auto size = std::filesystem::file_size(path, ec);
        if (ec) throw Error(ErrorKind::io, "cannot stat '" + path + "'");
        if (size > max_bytes)
            throw Error(ErrorKind::limit, "'" + path + "' is over the " + std::to_string(max_bytes) + "-byte limit for this file");
        OpenedFile f;
        f.path_ = path;
        f.size_ = static_cast<std::size_t>(size);
        return f;
    }
    void read_all(void* out, std::size_t n) const {
        std::ifstream in(path_, std::ios::binary);
        if (!in || !in.read(static_cast<char*>(out), static_cast<std::streamsize>(n)))
            throw Error(ErrorKind::io, "cannot read '" + path_ + "'");
    }
#endif

    std::size_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }

private:
    OpenedFile() = default;
    void close() noexcept {
#ifdef MINIBERT_HAS_POSIX_FILES
        if (fd_ >= 0) ::close(fd_);
#endif
        fd_ = -1;
    }

    int fd_ = -1;
    std::size_t size_ = 0;
    std::string path_;
};

/// Reads a whole text file (JSON, vocab.txt) under the policy, capped at `max_bytes`.
inline std::string read_text_file(const std::string& path, std::uint64_t max_bytes = max_text_file_bytes) {
    const OpenedFile file = OpenedFile::open(path, max_bytes);
    std::string text(file.size(), '\0');
    file.read_all(text.data(), text.size());
    return text;
}

/// True when something (a file, a directory, a FIFO, a dangling or looping symlink) is at
/// `path`: the caller then opens it and reports what is wrong, rather than skipping it as absent.
/// Never throws.
inline bool path_entry_exists(const std::string& path) noexcept {
#ifdef MINIBERT_HAS_POSIX_FILES
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
#else
    std::error_code ec;
    return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
#endif
}

/// True when `path` names a directory (following symlinks). Never throws.
inline bool is_directory_path(const std::string& path) noexcept {
#ifdef MINIBERT_HAS_POSIX_FILES
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
#else
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
#endif
}

}  // namespace minibert

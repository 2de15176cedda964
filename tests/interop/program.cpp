/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "program.h"

#include "interop.h"

#include <signal.h>

namespace interop {

Program::Program(const std::vector<std::string> &argv,
                 const std::vector<std::pair<std::string, std::string>> &env) {
    std::vector<const char *> args;
    for (const std::string &arg : argv)
        args.push_back(arg.c_str());
    args.push_back(nullptr);
    g_autofree gchar *base = g_path_get_basename(args[0]);
    name_ = base;
    GError *error = nullptr;
    GSubprocessLauncher *launcher = g_subprocess_launcher_new(static_cast<GSubprocessFlags>(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE));
    for (const auto &[name, value] : env)
        g_subprocess_launcher_setenv(launcher, name.c_str(), value.c_str(), TRUE);
    process_ = g_subprocess_launcher_spawnv(launcher, args.data(), &error);
    g_object_unref(launcher);
    fail_unless(process_ != nullptr, "cannot start %s: %s", args[0], error ? error->message : "?");
    reader_ = std::thread([this] { read_lines(); });
}

Program::~Program() {
    if (g_subprocess_get_identifier(process_))
        g_subprocess_force_exit(process_);
    reader_.join(); /* the pipe closes when the process is gone */
    g_object_unref(process_);
}

std::string Program::wait_line_if(const std::function<bool(const std::string &)> &matches,
                                  const std::string &what) {
    const gint64 end = g_get_monotonic_time() + gint64(kWaitUs * slowdown());
    do {
        for (const std::string &line : lines())
            if (matches(line))
                return line;
        g_usleep(50 * 1000);
    } while (g_get_monotonic_time() < end);
    fail("no line of %s holds %s; it printed:\n%s", name_.c_str(), what.c_str(), output().c_str());
    return "";
}

std::string Program::wait_line(const std::vector<std::string> &parts) {
    std::string wanted;
    for (const std::string &part : parts)
        wanted += (wanted.empty() ? "'" : " '") + part + "'";
    return wait_line_if(
        [&parts](const std::string &line) {
            for (const std::string &part : parts)
                if (line.find(part) == std::string::npos)
                    return false;
            return true;
        },
        wanted);
}

int Program::interrupt_and_wait(double limit_s) {
    g_subprocess_send_signal(process_, SIGINT);
    const gint64 end = g_get_monotonic_time() + gint64(limit_s * slowdown() * 1e6);
    /* GLib's worker thread reaps the child; the identifier is NULL from then on. */
    while (g_subprocess_get_identifier(process_) && g_get_monotonic_time() < end)
        g_usleep(20 * 1000);
    fail_if(g_subprocess_get_identifier(process_), "still running %.1f s after SIGINT:\n%s",
            limit_s, output().c_str());
    fail_unless(g_subprocess_get_if_exited(process_), "killed by a signal:\n%s", output().c_str());
    return g_subprocess_get_exit_status(process_);
}

std::string Program::output() {
    std::string text;
    for (const std::string &line : lines())
        text += line + "\n";
    return text;
}

std::vector<std::string> Program::lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
}

void Program::read_lines() {
    GDataInputStream *input = g_data_input_stream_new(g_subprocess_get_stdout_pipe(process_));
    while (gchar *line = g_data_input_stream_read_line_utf8(input, nullptr, nullptr, nullptr)) {
        g_printerr("%s: %s\n", name_.c_str(), line);
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.emplace_back(line);
        g_free(line);
    }
    g_object_unref(input);
}

guint number_after(const std::string &line, const std::string &key) {
    const size_t at = line.find(key);
    fail_if(at == std::string::npos, "no '%s' in '%s'", key.c_str(), line.c_str());
    return guint(g_ascii_strtoull(line.c_str() + at + key.size(), nullptr, 10));
}

} // namespace interop

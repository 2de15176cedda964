/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ensemble.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>

#include <csignal>

namespace interop {

namespace {

/** How long a program gets after SIGTERM before SIGKILL, and after that to be reaped, µs. */
constexpr gint64 kGraceUs = 5 * G_USEC_PER_SEC;
constexpr gint64 kReapUs = 10 * G_USEC_PER_SEC;

std::string joined(const std::vector<std::string> &argv) {
    std::string text;
    for (const std::string &arg : argv)
        text += (text.empty() ? "" : " ") + arg;
    return text;
}

} // namespace

const TimedLine *TimedRun::find(const std::string &text) const {
    for (const TimedLine &line : lines)
        if (line.text.find(text) != std::string::npos)
            return &line;
    return nullptr;
}

std::string TimedRun::transcript() const {
    std::string text = joined(argv) + "\n";
    for (const TimedLine &line : lines)
        text += g_strdup_printf("%7.3f ", double(line.at_us - started_us) / G_USEC_PER_SEC) +
                line.text + "\n";
    return text;
}

struct Ensemble::Member {
    TimedRun run;
    std::vector<std::string> env;
    gint64 start_us = 0;
    gint64 stop_us = 0;
    GSubprocess *process = nullptr;
    GDataInputStream *output = nullptr;
    bool output_done = false;
    bool reaped = false;
    bool killed = false;

    ~Member() {
        g_clear_object(&output);
        g_clear_object(&process);
    }
    bool done() const { return run.started_us != 0 && output_done && reaped; }

    void spawn() {
        std::vector<const char *> args;
        for (const std::string &arg : run.argv)
            args.push_back(arg.c_str());
        args.push_back(nullptr);
        g_autoptr(GSubprocessLauncher) launcher =
            g_subprocess_launcher_new(static_cast<GSubprocessFlags>(
                G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                G_SUBPROCESS_FLAGS_STDERR_MERGE));
        for (const std::string &entry : env) {
            const size_t equals = entry.find('=');
            g_subprocess_launcher_setenv(launcher, entry.substr(0, equals).c_str(),
                                         entry.substr(equals + 1).c_str(), TRUE);
        }
        g_autoptr(GError) error = nullptr;
        process = g_subprocess_launcher_spawnv(launcher, args.data(), &error);
        fail_unless(process != nullptr, "cannot start %s: %s", joined(run.argv).c_str(),
                    error ? error->message : "?");
        run.started_us = g_get_monotonic_time();
        g_output_stream_close(g_subprocess_get_stdin_pipe(process), nullptr, nullptr);
        output = g_data_input_stream_new(g_subprocess_get_stdout_pipe(process));
        read_line();
        g_subprocess_wait_async(process, nullptr, on_exit, this);
    }

    void read_line() {
        g_data_input_stream_read_line_async(output, G_PRIORITY_DEFAULT, nullptr, on_line, this);
    }

    static void on_line(GObject *source, GAsyncResult *result, gpointer data) {
        auto *self = static_cast<Member *>(data);
        gsize length = 0;
        g_autofree char *line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source),
                                                                     result, &length, nullptr);
        if (!line) {
            self->output_done = true;
            return;
        }
        self->run.lines.push_back({g_get_monotonic_time(), std::string(line, length)});
        self->read_line();
    }

    static void on_exit(GObject *source, GAsyncResult *result, gpointer data) {
        auto *self = static_cast<Member *>(data);
        GSubprocess *process = G_SUBPROCESS(source);
        g_subprocess_wait_finish(process, result, nullptr);
        self->reaped = true;
        if (g_subprocess_get_if_exited(process)) {
            self->run.exited = true;
            self->run.status = g_subprocess_get_exit_status(process);
        }
    }
};

Ensemble::Ensemble() = default;
Ensemble::~Ensemble() = default;

size_t Ensemble::add(std::vector<std::string> argv, gint64 start_us, gint64 stop_us,
                     std::vector<std::string> env) {
    auto member = std::make_unique<Member>();
    member->run.argv = std::move(argv);
    member->env = std::move(env);
    member->start_us = start_us;
    member->stop_us = stop_us;
    member->run.stop_us = stop_us;
    members_.push_back(std::move(member));
    return members_.size() - 1;
}

void Ensemble::at(gint64 at_us, std::function<void()> action) {
    actions_.emplace_back(at_us, std::move(action));
}

const TimedRun &Ensemble::result(size_t index) const {
    return members_.at(index)->run;
}

size_t Ensemble::size() const {
    return members_.size();
}

void Ensemble::run() {
    gint64 last_stop = g_get_monotonic_time();
    for (const auto &member : members_)
        last_stop = std::max(last_stop, member->stop_us);
    const gint64 deadline = last_stop + kGraceUs + kReapUs;

    g_autoptr(GMainContext) context = g_main_context_new();
    g_main_context_push_thread_default(context);
    /* A tick so that starts and stops happen on time while no output arrives. */
    GSource *tick = g_timeout_source_new(5);
    g_source_set_callback(
        tick, [](gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr, nullptr);
    g_source_attach(tick, context);

    for (;;) {
        const gint64 now = g_get_monotonic_time();
        for (auto action = actions_.begin(); action != actions_.end();) {
            if (now < action->first) {
                ++action;
                continue;
            }
            const std::function<void()> call = std::move(action->second);
            action = actions_.erase(action);
            call();
        }
        bool all_done = actions_.empty();
        for (const auto &member : members_) {
            if (member->run.started_us == 0 && now >= member->start_us)
                member->spawn();
            if (member->process && !member->reaped) {
                if (!member->run.stopped && now >= member->stop_us) {
                    member->run.stopped = true;
                    g_subprocess_send_signal(member->process, SIGTERM);
                } else if (!member->killed && now >= member->stop_us + kGraceUs) {
                    member->killed = true;
                    g_subprocess_force_exit(member->process);
                }
            }
            all_done = all_done && member->done();
        }
        if (all_done || now >= deadline)
            break;
        g_main_context_iteration(context, TRUE);
    }
    /* Anything left is killed and reaped before the context goes. */
    bool late = false;
    for (const auto &member : members_) {
        if (member->process && !member->done()) {
            late = true;
            g_subprocess_force_exit(member->process);
            const gint64 end = g_get_monotonic_time() + kReapUs;
            while (!member->done() && g_get_monotonic_time() < end)
                g_main_context_iteration(context, TRUE);
        }
    }
    g_source_destroy(tick);
    g_source_unref(tick);
    g_main_context_pop_thread_default(context);
    fail_if(late, "a client program outlived its stop by %d s",
            int((kGraceUs + kReapUs) / 1000000));
}

} // namespace interop

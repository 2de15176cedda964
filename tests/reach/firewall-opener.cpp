/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * firewall-opener: drives reach::Firewall objects of one process for
 * tests/reach/test-firewalld.sh, where wmnetsink has no property for what is
 * tested (a rule timeout of a few seconds, two openers of one port in one
 * process).
 *
 *   firewall-opener        (commands on stdin, one per line)
 *     open NAME PORT TIMEOUT_S   a Firewall named NAME opens PORT/tcp in the default zone
 *                                with FirewallConfig::rule_timeout_s = TIMEOUT_S
 *     close NAME                 closes it; prints "closed NAME"
 *     quit                       closes every one and exits (also on end of input)
 * Each report prints one line, whole and flushed, in the form of a printed
 * GstStructure ("report name=(string)NAME, backend=(string)firewalld,
 * action=(string)open, result=(string)opened, port=(uint)PORT, zone=(string)public"),
 * with error-message when there is one.
 */
#include "print-line.h"

#include "reach/firewall.h"
#include "reach/types.h"

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>

namespace {

using reachtest::print_line;

/* Prints the reports of the Firewall named name. */
class Printer final : public wmstream::reach::PortEvents {
public:
    explicit Printer(std::string name) : name_(std::move(name)) {}

    void port_report(const wmstream::reach::PortReport &report) override {
        std::string line = "report name=(string)" + name_ + ", backend=(string)" +
                           to_string(report.backend) + ", action=(string)" +
                           to_string(report.action) + ", result=(string)" +
                           to_string(report.result) + ", port=(uint)" +
                           std::to_string(report.port) + ", zone=(string)" + report.zone;
        if (report.error)
            line += ", error-message=(string)\"" + report.error->message + "\"";
        print_line(line);
    }

private:
    const std::string name_;
};

struct Opener {
    explicit Opener(const std::string &name) : printer(name), firewall(&printer) {}
    Printer printer;
    wmstream::reach::Firewall firewall;
};

} // namespace

int main() {
    std::map<std::string, std::unique_ptr<Opener>> openers;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream words(line);
        std::string command, name;
        words >> command >> name;
        if (command == "open") {
            wmstream::reach::FirewallConfig config;
            words >> config.port >> config.rule_timeout_s;
            auto &opener = openers[name];
            opener = std::make_unique<Opener>(name);
            const wmstream::Status status = opener->firewall.open(config);
            if (!status.ok())
                print_line("open-failed " + name + " " + status.error().message);
        } else if (command == "close" && openers.count(name)) {
            openers.erase(name);
            print_line("closed " + name);
        } else if (command == "quit") {
            break;
        } else {
            print_line("unknown-command " + line);
        }
    }
    return 0;
}

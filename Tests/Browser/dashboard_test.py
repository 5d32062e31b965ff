"""A new user's path through the dashboard in Debian's Chromium (headless), driven by Selenium.

Register, create a Resend send-config pointed at the provider sandbox, create a batch, upload a
1,000-row CSV, check the preview, send, and watch the batch reach completed with delivered counts on
its page without a reload; then the analytics chart. A screenshot of each step goes to --screenshots.
Started by scripts/browser-test, which runs `batchsender serve` with the dashboard; this script starts
the sandbox once the page has shown the send-config's webhook URL, so that delivery events come back.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

SANDBOX_WEBHOOK_SECRET = "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZXNlbmQta2V5ISE="
RECIPIENTS = 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--web", required=True)
    parser.add_argument("--sandbox-port", type=int, required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--sandbox-config", required=True)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(flag)
    # The console, to find what the Content-Security-Policy refused (it must refuse nothing of ours).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    sandbox = None
    step = [0]

    def shot(name):
        step[0] += 1
        path = os.path.join(args.screenshots, f"{step[0]:02d}-{name}.png")
        driver.save_screenshot(path)
        print(f"browser-test: {step[0]:02d} {name} ({path})", flush=True)

    def wait(condition, seconds=30, what="the page"):
        # A page being replaced by the next (after a form's POST) makes elements found a moment before stale or gone:
        # asked again at the next poll.
        return WebDriverWait(driver, seconds, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException, NoSuchElementException]) \
            .until(lambda d: condition(d), message=f"waiting for {what}")

    def field(element_id, text):
        element = driver.find_element(By.ID, element_id)
        element.clear()
        element.send_keys(text)

    def text(element_id):
        return driver.find_element(By.ID, element_id).text.strip()

    try:
        web = args.web
        email = f"browser-{uuid.uuid4().hex[:8]}@example.com"

        # 1. Register: the account is made and signed in.
        driver.get(web + "/")
        wait(lambda d: d.current_url.endswith("/login"), what="the sign-in page")
        driver.find_element(By.LINK_TEXT, "Create an account").click()
        field("email", email)
        field("password", "a long enough password")
        shot("register")
        driver.find_element(By.ID, "register").click()
        wait(lambda d: d.current_url.endswith("/batches"), what="the batches page after registering")
        assert email in driver.find_element(By.CLASS_NAME, "who").text, "the header does not name the signed-in user"
        shot("signed-in")

        # 2. A Resend send-config pointed at the sandbox, from the form the plugin's keys make.
        driver.find_element(By.LINK_TEXT, "Send-configs").click()
        driver.find_element(By.CSS_SELECTOR, "#new-resend summary").click()
        field("resend-name", "Resend (sandbox)")
        field("resend-api_key", "re_browser_0123456789abcdef")
        field("resend-webhook_secret", SANDBOX_WEBHOOK_SECRET)
        field("resend-base_url", f"http://127.0.0.1:{args.sandbox_port}")
        field("resend-from", "news@example.com")
        assert driver.find_element(By.ID, "resend-api_key").get_attribute("type") == "password", "a secret key is not a password field"
        shot("send-config-form")
        driver.find_element(By.ID, "create-resend").click()
        wait(lambda d: d.current_url.endswith("/send-configs") and d.find_elements(By.CSS_SELECTOR, "code[id^=webhook-]"),
             what="the new send-config in the list")
        webhook_url = driver.find_element(By.CSS_SELECTOR, "code[id^=webhook-]").text.strip()
        assert "/webhooks/resend/" in webhook_url, f"unexpected webhook URL {webhook_url!r}"
        shot("send-config-created")

        # The sandbox sends this config's delivery events to the URL the page showed.
        log = open(os.path.join(args.work, "sandbox.log"), "w")
        sandbox = subprocess.Popen([os.path.join(args.bin, "batchsender"), "sandbox", "--port", str(args.sandbox_port),
                                    "--config", args.sandbox_config, "--webhook-url", f"resend={webhook_url}",
                                    "--log-level", "error"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while "sandbox listening" not in open(log.name).read():
            assert time.time() < deadline and sandbox.poll() is None, "the sandbox did not start: " + open(log.name).read()
            time.sleep(0.1)

        # 3. A batch with {{variables}}.
        driver.find_element(By.LINK_TEXT, "Batches").click()
        field("batch-name", "Browser launch")
        Select(driver.find_element(By.ID, "batch-config")).select_by_visible_text("Resend (sandbox) (resend)")
        field("batch-subject", "Hello {{name}}")
        # An inline style, as emails have: the preview frame inherits the page's CSP, which must allow it.
        field("batch-html", '<p style="color: #1b6e3a">Hi <strong>{{name}}</strong>, your code is {{code}}.</p>')
        field("batch-text", "Hi {{name}}, your code is {{code}}.")
        shot("batch-form")
        driver.find_element(By.ID, "create-batch").click()
        wait(lambda d: "/batches/" in d.current_url and d.find_elements(By.ID, "upload"), what="the new batch's page")
        batch_url = driver.current_url

        # 4. A CSV with a bad address on its third line is refused whole, the line named on the page;
        # then a 1,000-row CSV through the upload form, with its progress bar.
        bad_path = os.path.join(args.work, "bad.csv")
        with open(bad_path, "w") as out:
            out.write("email,name,code\nok@example.com,Ok,C1\nnot-an-address,Bad,C2\n")
        driver.find_element(By.ID, "csv").send_keys(bad_path)
        driver.find_element(By.ID, "upload-button").click()
        wait(lambda d: "Not uploaded" in d.find_element(By.ID, "upload-result").text or "Uploaded" in d.find_element(By.ID, "upload-result").text,
             what="the bad upload's answer")
        result = text("upload-result")
        assert "Not uploaded (422)" in result and "line 3" in result, f"bad upload: {result}"
        shot("bad-upload")
        driver.find_element(By.ID, "csv").clear()
        driver.execute_script("document.getElementById('upload-result').textContent = ''")
        csv_path = os.path.join(args.work, "recipients.csv")
        with open(csv_path, "w") as out:
            out.write("email,name,code\n")
            for index in range(RECIPIENTS):
                out.write(f"person{index}@example.com,Person {index},C{index:04d}\n")
        driver.find_element(By.ID, "csv").send_keys(csv_path)
        driver.find_element(By.ID, "upload-button").click()
        wait(lambda d: "Uploaded" in d.find_element(By.ID, "upload-result").text or "Not uploaded" in d.find_element(By.ID, "upload-result").text,
             what="the upload's answer")
        result = text("upload-result")
        assert f"{RECIPIENTS} added" in result, f"upload: {result}"
        shot("uploaded")
        wait(lambda d: d.find_elements(By.CLASS_NAME, "preview-subject") and text("count-recipients") == str(RECIPIENTS),
             what="the page reloaded with the recipients")

        # 5. The preview: the message as the first recipients get it.
        subjects = [e.text for e in driver.find_elements(By.CLASS_NAME, "preview-subject")]
        assert subjects[:2] == ["Hello Person 0", "Hello Person 1"], f"preview subjects {subjects}"
        assert "Hi Person 0, your code is C0000." in driver.find_element(By.CSS_SELECTOR, ".preview pre").text
        shot("preview")

        # 6. Send, then watch the counters move on the page without reloading it.
        driver.find_element(By.ID, "send").click()
        wait(lambda d: d.current_url == batch_url and d.find_elements(By.ID, "counters"), what="the batch page after sending")
        driver.execute_script("window.__notReloaded = true;")
        shot("sending")
        wait(lambda d: text("batch-status") == "completed", seconds=120, what="the batch to complete")
        wait(lambda d: int(text("count-delivered") or 0) > 0, seconds=60, what="delivered counts from the webhooks")
        settled, last = time.time() + 60, None
        # The sandbox plans fates (delivered, bounced, complained…); wait until the counts stop moving.
        while time.time() < settled:
            now = tuple(text(f"count-{name}") for name in ("delivered", "bounced", "complained"))
            if now == last:
                break
            last = now
            time.sleep(3)
        assert driver.execute_script("return window.__notReloaded === true;"), "the page was reloaded"
        sent, delivered = int(text("count-sent")), int(text("count-delivered"))
        assert sent == RECIPIENTS, f"sent {sent} of {RECIPIENTS}"
        assert 0 < delivered <= sent, f"delivered {delivered}"
        shot("completed")
        print(f"browser-test: completed without a reload: sent {sent}, delivered {delivered}, "
              f"bounced {text('count-bounced')}, complained {text('count-complained')}", flush=True)

        # A recipient's history, from the recipients table.
        driver.find_element(By.LINK_TEXT, "delivered").click()
        wait(lambda d: "status=delivered" in d.current_url, what="the delivered filter")
        driver.find_element(By.CSS_SELECTOR, "tbody td a").click()
        wait(lambda d: "/recipients/" in d.current_url, what="a recipient's history")
        assert "delivered" in driver.find_element(By.TAG_NAME, "tbody").text, "the history lacks the delivered event"
        shot("recipient-history")

        # 7. Analytics: the chart, once the events reach ClickHouse.
        deadline = time.time() + 90
        while True:
            driver.get(web + "/analytics?days=1")
            totals = {e.find_element(By.TAG_NAME, "dt").text.lower(): e.find_element(By.TAG_NAME, "dd").text
                      for e in driver.find_elements(By.CSS_SELECTOR, "#totals .counter")}
            if totals.get("sent") == str(RECIPIENTS) and int(totals.get("delivered", "0")) > 0:
                break
            assert time.time() < deadline, f"analytics never showed the batch: {totals}"
            time.sleep(3)
        chart = driver.find_element(By.CSS_SELECTOR, "#rate-chart svg")
        assert len(chart.find_elements(By.TAG_NAME, "path")) >= 1, "the chart has no line"
        assert "Delivered" in chart.text, "the chart's lines are not labelled"
        shot("analytics")

        # 7a. One-click unsubscribe: a recipient opens the link its email carried (no session: a private window), is
        # asked, confirms; the address is on the sender's suppressions page, from the source unsubscribe.
        with urllib.request.urlopen(f"http://127.0.0.1:{args.sandbox_port}/sandbox/unsubscribe-links?provider=resend") as answer:
            links = json.load(answer)["links"]
        assert len(links) >= 10, f"the sandbox kept {len(links)} unsubscribe links"
        # One whose address is not suppressed already (a bounce or complaint keeps its own row).
        driver.get(web + "/suppressions")
        suppressed = driver.find_element(By.TAG_NAME, "main").text
        link = next(entry for entry in links if entry["to"] not in suppressed)
        cookies = driver.get_cookies()
        driver.delete_all_cookies()
        driver.get(link["url"])
        assert link["to"] in driver.find_element(By.TAG_NAME, "main").text, "the page names the address"
        shot("unsubscribe-confirm")
        driver.find_element(By.ID, "unsubscribe").click()
        wait(lambda d: d.find_elements(By.ID, "unsubscribed"), what="the unsubscribed page")
        driver.get(web + "/login")
        for cookie in cookies:
            driver.add_cookie(cookie)
        driver.get(web + "/suppressions")
        row = driver.find_element(By.XPATH, f"//td[text()='{link['to']}']/ancestor::tr")
        assert "unsubscribe" in row.text, f"suppressions: {row.text}"

        # 7b. A batch scheduled for later: paused and resumed from its page, listed on the queue page, then cancelled.
        driver.find_element(By.LINK_TEXT, "Batches").click()
        field("batch-name", "Later launch")
        Select(driver.find_element(By.ID, "batch-config")).select_by_visible_text("Resend (sandbox) (resend)")
        field("batch-subject", "Later, {{name}}")
        field("batch-text", "Hi {{name}}.")
        driver.find_element(By.ID, "create-batch").click()
        wait(lambda d: "/batches/" in d.current_url and d.find_elements(By.ID, "upload"), what="the later batch's page")
        later_url = driver.current_url
        later_path = os.path.join(args.work, "later.csv")
        with open(later_path, "w") as out:
            out.write("email,name\nlater@example.com,Later\n")
        driver.find_element(By.ID, "csv").send_keys(later_path)
        driver.find_element(By.ID, "upload-button").click()
        wait(lambda d: d.find_elements(By.ID, "send") and text("count-recipients") == "1", what="the later batch with its recipient")
        driver.execute_script("document.getElementById('scheduled').value = '2031-01-01T00:00'")
        driver.find_element(By.ID, "send").click()
        wait(lambda d: d.current_url == later_url and d.find_elements(By.ID, "pause"), what="the scheduled batch's pause button")
        driver.find_element(By.ID, "pause").click()
        wait(lambda d: d.find_elements(By.ID, "paused") and d.find_elements(By.ID, "resume"), what="the batch shown paused")
        shot("paused")
        driver.find_element(By.LINK_TEXT, "Queue").click()
        wait(lambda d: d.current_url.endswith("/queue"), what="the queue page")
        row = driver.find_element(By.LINK_TEXT, "Later launch").find_element(By.XPATH, "./ancestor::tr")
        assert row.find_elements(By.TAG_NAME, "time")[0].text, f"the queue does not show the pause: {row.text}"
        shot("queue")
        driver.get(later_url)
        driver.find_element(By.ID, "resume").click()
        wait(lambda d: d.find_elements(By.ID, "pause") and not d.find_elements(By.ID, "paused"), what="the batch shown resumed")
        driver.find_element(By.ID, "cancel").click()
        wait(lambda d: text("batch-status") == "cancelled", what="the later batch cancelled")

        # 7c. A stored template: made, saved as version 2, previewed; a batch made from it shows the version and renders it; the draft deleted.
        driver.find_element(By.LINK_TEXT, "Templates").click()
        field("template-name", "Welcome")
        Select(driver.find_element(By.ID, "template-channel")).select_by_visible_text("email")
        field("template-subject", "Welcome, {{name}}")
        field("template-text", "Hello {{name}}.")
        driver.find_element(By.ID, "create-template").click()
        wait(lambda d: "/templates/" in d.current_url and d.find_elements(By.ID, "save-version"), what="the new template's page")
        template_url = driver.current_url
        assert text("template-version") == "1" and text("template-variables") == "name", f"template: {text('template-version')} {text('template-variables')}"
        driver.find_element(By.ID, "edit-subject").clear()
        field("edit-subject", "Welcome aboard, {{name}}")
        driver.find_element(By.ID, "save-version").click()
        wait(lambda d: d.find_elements(By.ID, "template-version") and text("template-version") == "2", what="version 2 saved")
        field("preview-variables", '{"name": "Ada"}')
        driver.find_element(By.ID, "preview-template").click()
        wait(lambda d: "Welcome aboard, Ada" in d.find_element(By.ID, "preview-result").text, what="the template's preview")
        shot("template")
        driver.find_element(By.LINK_TEXT, "Batches").click()
        field("batch-name", "From a template")
        Select(driver.find_element(By.ID, "batch-config")).select_by_visible_text("Resend (sandbox) (resend)")
        Select(driver.find_element(By.ID, "batch-template")).select_by_visible_text("Welcome (email, version 2)")
        driver.find_element(By.ID, "create-batch").click()
        wait(lambda d: "/batches/" in d.current_url and d.find_elements(By.ID, "batch-template-link"), what="the batch made from the template")
        assert "version 2" in text("batch-template-link"), text("batch-template-link")
        templated_path = os.path.join(args.work, "templated.csv")
        with open(templated_path, "w") as out:
            out.write("email,name\ngrace@example.com,Grace\n")
        driver.find_element(By.ID, "csv").send_keys(templated_path)
        driver.find_element(By.ID, "upload-button").click()
        wait(lambda d: d.find_elements(By.CLASS_NAME, "preview-subject") and text("count-recipients") == "1", what="the templated batch's preview")
        subjects = [e.text for e in driver.find_elements(By.CLASS_NAME, "preview-subject")]
        assert subjects == ["Welcome aboard, Grace"], f"templated preview {subjects}"
        driver.find_element(By.ID, "delete").click()
        wait(lambda d: d.current_url.endswith("/batches"), what="the draft deleted")
        driver.get(template_url + "?version=1")
        assert text("template-version") == "1" and "Welcome, {{name}}" in driver.find_element(By.TAG_NAME, "main").text, "version 1 kept"

        # 8. At 360 px wide the batch page fits: nothing scrolls sideways but tables inside their own box.
        driver.set_window_size(360, 800)
        driver.get(batch_url)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth;")
        assert overflow <= 0, f"the page is {overflow}px wider than a 360px screen"
        shot("batch-360px")

        # 9. Nothing of the dashboard's own was refused by its Content-Security-Policy: scripts, styles
        # (the progress bars' widths, the previews' inline styles), the live counters' fetches, the uploads.
        refused = [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]
        assert not refused, f"the Content-Security-Policy refused: {refused}"
        print(f"browser-test: passed; screenshots in {args.screenshots}", flush=True)
    except Exception:
        try:
            shot("failure")
        except Exception:
            pass
        raise
    finally:
        driver.quit()
        if sandbox:
            sandbox.terminate()
            sandbox.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

"""What 100 field-sales people do at once: lists, filters, record pages, the kanban, the map, and some edits.

Each simulated user logs in as one of the demo users (admins, a manager, reps) and picks records
from the lists it was shown, so every record it opens or notes is one it may see.
"""
import random
import re

from locust import HttpUser, between, task

USERS = ["admin@example.com", "manager@example.com"] + [f"rep{i}@example.com" for i in range(1, 6)]
ROW_LINK = re.compile(r'href="/leads/(\d+)"')
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FORM_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FILTERS = ["owner=me", "sort=-value", "sort=title", "q=nordic", "source=Referral", "status=2&sort=-created_at",
           "created_from=2026-06-01", "located=yes&sort=city", "page=3", "owner=me&sort=-updated_at&page=2"]
BOXES = ["-25,34,45,72", "-10,35,5,44", "4,50,15,56", "-3.85,40.35,-3.55,40.5"]


class FieldSalesUser(HttpUser):
    wait_time = between(0.2, 0.8)

    def on_start(self) -> None:
        page = self.client.get("/login", name="login page")
        token = FORM_CSRF.search(page.text)
        self.client.post("/login", name="login", data={"email": random.choice(USERS), "password": "demo",
                                                       "csrf_token": token.group(1) if token else ""})
        self.leads: list[str] = []
        self.csrf = ""
        self._list("/leads/", "list")

    def _list(self, url: str, name: str, htmx: bool = False) -> None:
        headers = {"HX-Request": "true"} if htmx else {}
        with self.client.get(url, name=name, headers=headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            found = ROW_LINK.findall(response.text)
            if found:
                self.leads = found
            token = CSRF.search(response.text)
            if token:
                self.csrf = token.group(1)

    @task(4)
    def leads_list(self) -> None:
        self._list("/leads/", "list")

    @task(4)
    def filtered_rows(self) -> None:
        self._list(f"/leads/?{random.choice(FILTERS)}", "list, filtered (htmx rows)", htmx=True)

    @task(4)
    def record_page(self) -> None:
        if self.leads:
            self.client.get(f"/leads/{random.choice(self.leads)}", name="record")

    @task(1)
    def kanban(self) -> None:
        self.client.get("/pipeline", name="kanban")

    @task(1)
    def map_points(self) -> None:
        box = random.choice(BOXES)
        zoom = 12 if box.startswith("-3.85") else random.choice([4, 5, 6])
        self.client.get(f"/map/leads/points?bbox={box}&zoom={zoom}", name="map points")

    @task(1)
    def add_note(self) -> None:
        if self.leads and self.csrf:
            lead = random.choice(self.leads)
            self.client.post(f"/leads/{lead}/notes", data={"body": "Called, will visit next week."},
                             headers={"X-CSRFToken": self.csrf, "HX-Request": "true"}, name="add note (edit)")

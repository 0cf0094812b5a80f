from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from areas.models import Area, AreaLevel

from .cast import NANCHANG_COUNTY, NINGDU, RUIJIN, CastTestCase


class VisibleToTest(CastTestCase):
    def counties_seen_by(self, name):
        user = self.cast[name] if name else AnonymousUser()
        return set(Area.objects.visible_to(user).counties().values_list("code", flat=True))

    def test_a_county_clerk_sees_only_their_county(self):
        self.assertEqual(self.counties_seen_by("ruijin_clerk"), {RUIJIN})
        self.assertEqual(self.counties_seen_by("ningdu_clerk"), {NINGDU})

    def test_a_city_reviewer_sees_the_counties_of_the_city(self):
        seen = self.counties_seen_by("ganzhou_reviewer")
        self.assertIn(RUIJIN, seen)
        self.assertIn(NINGDU, seen)
        self.assertNotIn(NANCHANG_COUNTY, seen)
        self.assertEqual(len(seen), Area.objects.filter(parent_id="360700").count())

    def test_the_province_sees_everything(self):
        self.assertEqual(Area.objects.visible_to(self.cast["province_officer"]).count(), Area.objects.count())

    def test_nobody_else_sees_anything(self):
        self.assertEqual(self.counties_seen_by(None), set())
        unassigned = User.objects.create_user(username="nobody", password="x")
        self.assertFalse(Area.objects.visible_to(unassigned).exists())
        inactive = self.cast["ruijin_clerk"]
        inactive.is_active = False
        self.assertFalse(Area.objects.visible_to(inactive).exists())

    def test_a_clerk_sees_townships_and_villages_of_their_county_only(self):
        areas = Area.objects.visible_to(self.cast["ruijin_clerk"])
        self.assertTrue(areas.filter(level=AreaLevel.VILLAGE).exists())
        self.assertFalse(areas.exclude(code__startswith=RUIJIN).exists())

    def test_users_are_scoped_the_same_way(self):
        seen = set(User.objects.visible_to(self.cast["ganzhou_reviewer"]).values_list("username", flat=True))
        self.assertEqual(seen, {"ruijin_clerk", "ruijin_supervisor", "ningdu_clerk", "ganzhou_reviewer"})
        self.assertEqual(
            set(User.objects.visible_to(self.cast["ruijin_clerk"]).values_list("username", flat=True)),
            {"ruijin_clerk", "ruijin_supervisor"},
        )


class AreaPagesTest(CastTestCase):
    def test_ningdu_clerk_gets_404_on_every_page_of_ruijin(self):
        self.login("ningdu_clerk")
        ruijin_codes = Area.objects.filter(code__startswith=RUIJIN).values_list("code", flat=True)[:40]
        for code in ruijin_codes:
            with self.subTest(code=code):
                self.assertEqual(self.client.get(f"/areas/{code}/").status_code, 404)
                self.assertEqual(self.client.get(f"/api/v1/areas/{code}/").status_code, 404)

    def test_ganzhou_reviewer_sees_ruijin_and_ningdu_not_nanchang(self):
        self.login("ganzhou_reviewer")
        self.assertEqual(self.client.get(f"/areas/{RUIJIN}/").status_code, 200)
        self.assertEqual(self.client.get(f"/areas/{NINGDU}/").status_code, 200)
        self.assertEqual(self.client.get(f"/areas/{NANCHANG_COUNTY}/").status_code, 404)
        listed = self.client.get("/api/v1/areas/?level=county&parent=360700").json()
        self.assertEqual(listed["count"], Area.objects.filter(parent_id="360700").count())
        everything = {a["code"] for a in self.client.get("/api/v1/areas/?level=county").json()["results"]}
        self.assertNotIn(NANCHANG_COUNTY, everything)

    def test_the_city_page_lists_its_counties_with_their_counts(self):
        self.login("ganzhou_reviewer")
        response = self.client.get("/areas/360700/")
        page = response.content.decode()
        self.assertIn("瑞金市", page)
        self.assertIn("宁都县", page)
        ruijin = dict(response.context["children"])[Area.objects.get(code=RUIJIN)]
        self.assertEqual(ruijin["township"], Area.objects.filter(parent_id=RUIJIN).count())

    def test_breadcrumbs_link_only_inside_the_users_area(self):
        self.login("ruijin_clerk")
        township = Area.objects.filter(parent_id=RUIJIN).first()
        page = self.client.get(f"/areas/{township.code}/").content.decode()
        self.assertIn(f'href="/areas/{RUIJIN}/"', page)
        self.assertNotIn('href="/areas/360700/"', page)
        self.assertIn("赣州市", page)  # named in the trail, not linked

    def test_area_page_queries_do_not_grow_with_the_children(self):
        # session, user, 2 x permissions, the user's area, the area, its children, their counts, its
        # ancestors (none for the province), and the session's new expiry (3 with its savepoint)
        self.login("province_officer")
        for code, queries in (("360000", 11), ("360700", 12), (RUIJIN, 12), (f"{RUIJIN}100", 12)):
            with self.subTest(code=code), self.assertNumQueries(queries):
                self.client.get(f"/areas/{code}/")

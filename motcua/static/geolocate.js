// The report form's "use my position" button: fills the hidden lat/lon fields when the phone allows it.
(function () {
  var button = document.getElementById("locate");
  if (!button || !navigator.geolocation) return;
  var status = document.getElementById("locate-status");
  button.classList.remove("hidden");
  button.addEventListener("click", function () {
    status.textContent = "Đang lấy vị trí…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
      document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
      status.textContent = "Đã có toạ độ: " + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5);
    }, function () {
      status.textContent = "Không lấy được vị trí: hãy ghi địa chỉ bên dưới.";
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
})();
